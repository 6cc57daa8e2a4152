import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Engine, EngineSession } from '../../src/engine/engine.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { classifyEndpoint } from '../../src/endpoints/classify-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { createFunctionHost, type FunctionHost } from '../../src/serving/function-host.ts';
import { summarizeEndpoint } from '../../src/endpoints/summarize-endpoint.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import type { Lane } from '../../src/serving/lane.ts';
import { splitSentences } from '../../src/text/sentence-splitter.ts';
import { postJson, readErrorBody, sendThrough } from '../support/requests.ts';
import { datasetPath, mirrorModelFiles } from '../support/shared-models.ts';

/** A lane that holds every request until released; it records what reached it. */
function createHeldLane() {
  const reached: unknown[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const lane: Lane = {
    load: async () => ({ description: { labels: ['A', 'B'] }, model: { variant: 'fp32', location: 'test', engine: 'test' } }),
    async answerBatch(calls) {
      reached.push(...calls.map((call) => call.inputs));
      await released;
      return { answers: calls.map(() => ({ ok: true, value: [[{ label: 'A', score: 1 }]] })), milliseconds: 1 };
    },
    async answer(call) {
      reached.push(call.inputs);
      await released;
      return [[{ label: 'A', score: 1 }]];
    },
    release: async () => {},
  };
  return { lane, reached, release };
}

async function serve(host: FunctionHost, fn: ReturnType<typeof defineFunction>) {
  await host.load();
  return sendThrough(createHonnxApp({ functions: [{ fn, host }] }).fetch);
}

describe('backpressure and time-outs over HTTP', () => {
  it('answers 429 with Retry-After at once when the queue is full, and serves what it accepted', async () => {
    const fn = defineFunction({ task: classifyEndpoint, model: 'test', maxQueuedRequests: 1 });
    const held = createHeldLane();
    const host = createFunctionHost('classify', fn.definition, async () => Promise.reject(new Error('unused')), { createLanes: () => [held.lane] });
    const send = await serve(host, fn);
    const running = send('/classify', postJson({ inputs: 'first' }));
    const queued = send('/classify', postJson({ inputs: 'second' }));
    await vi.waitFor(() => expect(host.queueDepth()).toBe(1));
    const refused = await send('/classify', postJson({ inputs: 'third' }));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await readErrorBody(refused)).code).toBe('queue_full');
    held.release();
    expect((await running).status).toBe(200);
    expect((await queued).status).toBe(200);
    expect(held.reached).toEqual(['first', 'second']);
  });

  it('answers 504 at the time-out, and drops a queued request without running it', async () => {
    const fn = defineFunction({ task: classifyEndpoint, model: 'test', timeoutMilliseconds: 40 });
    const held = createHeldLane();
    const host = createFunctionHost('classify', fn.definition, async () => Promise.reject(new Error('unused')), { createLanes: () => [held.lane] });
    const send = await serve(host, fn);
    const [running, queued] = await Promise.all([send('/classify', postJson({ inputs: 'running' })), send('/classify', postJson({ inputs: 'queued' }))]);
    for (const response of [running, queued]) {
      expect(response.status).toBe(504);
      expect((await readErrorBody(response)).code).toBe('timeout');
    }
    held.release();
    // A request sent now is answered after anything the lane still had to run: had the dropped one been kept, it
    // would have reached the lane before this one.
    await host.submit({ inputs: 'probe', parameters: {}, stream: false });
    expect(held.reached.at(-1)).toBe('probe');
    expect(held.reached.filter((inputs) => inputs !== 'probe')).toEqual(['running']);
    expect(host.queueDepth()).toBe(0);
  });
});

/** The native engine, with sessions whose run fails while `failing.rows` matches the batch's rows. */
function createFaultyEngine(failing: { rows: number | undefined }): Engine {
  const engine = createNodeEngine({ threads: 1 });
  return {
    ...engine,
    async createSession(model, options) {
      const session = await engine.createSession(model, options);
      const faulty: EngineSession = Object.create(session);
      faulty.run = (feeds, outputs) => {
        if (feeds.input_ids.dims[0] === failing.rows) return Promise.reject(new Error('the session failed mid-batch'));
        return session.run(feeds, outputs);
      };
      return faulty;
    },
  };
}

describe('faults', () => {
  const hosts: FunctionHost[] = [];
  afterAll(() => Promise.all(hosts.map((host) => host.release())));

  it('a session that throws mid-batch fails that batch with 500, and the function keeps serving', async () => {
    const failing: { rows: number | undefined } = { rows: 3 };
    const fn = defineFunction({ task: classifyEndpoint, model: 'sentiment-sst2-mini' });
    const host = createFunctionHost('classify', fn.definition, () => loadModelBundle(mirrorModelFiles('sentiment-sst2-mini'), createFaultyEngine(failing)));
    hosts.push(host);
    const send = await serve(host, fn);
    // The first request runs alone; the three that arrive meanwhile wait, then share one run, which fails.
    const responses = await Promise.all(['fine', 'a', 'b', 'c'].map((text) => send('/classify', postJson({ inputs: `this is ${text}` }))));
    expect(responses.map((response) => response.status)).toEqual([200, 500, 500, 500]);
    expect((await readErrorBody(responses[1])).code).toBe('internal_error');
    failing.rows = undefined;
    const after = await send('/classify', postJson({ inputs: 'still serving' }));
    expect(after.status).toBe(200);
  });

  it('never batches summarize documents together, even with batching asked for', async () => {
    const rowsPerRun: number[] = [];
    const engine = createNodeEngine({ threads: 1 });
    const recording: Engine = {
      ...engine,
      async createSession(model, options) {
        const session = await engine.createSession(model, options);
        const recorded: EngineSession = Object.create(session);
        recorded.run = (feeds, outputs) => {
          rowsPerRun.push(feeds.input_ids.dims[0]);
          return session.run(feeds, outputs);
        };
        return recorded;
      },
    };
    const fn = defineFunction({ task: summarizeEndpoint, model: 'summarize-bbc-extractive', batching: { maxBatchSize: 8 } });
    const host = createFunctionHost('summarize', fn.definition, () => loadModelBundle(mirrorModelFiles('summarize-bbc-extractive'), recording));
    hosts.push(host);
    const send = await serve(host, fn);
    rowsPerRun.length = 0;
    const articles = await Promise.all(
      ['business/001.txt', 'sport/002.txt', 'tech/003.txt'].map(async (file) => {
        const raw = await readFile(datasetPath('bbc-news-summary', 'BBC News Summary', 'News Articles', file), 'utf8');
        return raw.split('\n').slice(1).join('\n');
      }),
    );
    const responses = await Promise.all(articles.map((article) => send('/summarize', postJson({ inputs: article }))));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    // One run per document, of exactly that document's sentences.
    expect([...rowsPerRun].sort((a, b) => a - b)).toEqual(articles.map((article) => splitSentences(article).length).sort((a, b) => a - b));
  });
});
