import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkerEntries } from '../../src/build/node-bundle.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import { postJson, sendThrough, type SendRequest } from '../support/requests.ts';
import { datasetPath, mirrorFolder } from '../support/shared-models.ts';

const projectRoot = join(import.meta.dirname, '../..');

/** The main thread's engine: it must never open a session when the models run on worker threads. */
const sessionsOnMainThread: string[] = [];
const refusingEngine: Engine = {
  name: 'onnxruntime-node',
  acceptsPaths: true,
  async createSession(model) {
    sessionsOnMainThread.push(String(model));
    throw new Error('the HTTP thread must not run inference');
  },
};

// The default functions answered by models on two worker threads per function.
describe('default functions served from worker threads', () => {
  let send: SendRequest;
  let release: () => Promise<void>;

  beforeAll(async () => {
    const functions = await discoverFunctions(join(projectRoot, 'functions'));
    const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
    const created = createNodeApp({ functions, engine: refusingEngine, searchPaths, workerThreads: { count: 2 } });
    await created.ready();
    release = created.release;
    send = sendThrough(created.app.fetch);
  });
  afterAll(() => release?.());

  // The shared HTTP cases run through worker-thread lanes in test/http/functions.test.ts (one thread per function);
  // what is particular to several threads per function is checked here.

  it('never opened a session on the thread that answers HTTP', () => {
    expect(sessionsOnMainThread).toEqual([]);
  });

  it('reports its lanes and batching in GET /<function>', async () => {
    const classify = (await (await send('/classify')).json()) as { serving: { lanes: number; batching: unknown } };
    expect(classify.serving.lanes).toBe(2);
    expect(classify.serving.batching).toMatchObject({ maxBatchSize: 16 });
    const summarize = (await (await send('/summarize')).json()) as { serving: { batching: unknown } };
    expect(summarize.serving.batching).toBe(false);
  });

  it('answers concurrent requests in batches, each with its own answer', async () => {
    const lines = (await readFile(datasetPath('sst2', 'test.tsv'), 'utf8')).split('\n').slice(1, 41);
    const texts = lines.map((line) => line.split('\t')[0].trim());
    const together = await Promise.all(texts.map(async (text) => (await send('/classify', postJson({ inputs: text }))).json()));
    const alone = [];
    for (const text of texts.slice(0, 8)) alone.push(await (await send('/classify', postJson({ inputs: text }))).json());
    alone.forEach((answer, index) => {
      const [[best]] = answer as { label: string; score: number }[][];
      const [[batchedBest]] = together[index] as { label: string; score: number }[][];
      expect(batchedBest.label).toBe(best.label);
      expect(Math.abs(batchedBest.score - best.score)).toBeLessThan(1e-5);
    });
    const metrics = await (await send('/metrics')).text();
    const batches = Number(/honnx_batch_size_count\{function="classify",version="local"\} (\d+)/.exec(metrics)?.[1]);
    const requests = Number(/honnx_batch_size_sum\{function="classify",version="local"\} (\d+)/.exec(metrics)?.[1]);
    // Some runs served several requests.
    expect(requests).toBeGreaterThan(batches);
  });

  it('streams concurrent generations from the threads, each the tokens it would get alone', async () => {
    const body = { inputs: 'Once upon a time', parameters: { max_new_tokens: 24, do_sample: false } };
    const [alone] = (await (await send('/generate', postJson(body))).json()) as { generated_text: string }[];
    const streams = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const response = await send('/generate', postJson({ ...body, stream: true }));
        expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
        const events = (await response.text())
          .split('\n\n')
          .filter((block) => block.startsWith('data:'))
          .map((block) => JSON.parse(block.slice(5)) as { token: { text: string }; generated_text: string | null });
        expect(events).toHaveLength(24);
        return events.at(-1)!.generated_text;
      }),
    );
    expect(streams).toEqual(Array.from({ length: 6 }, () => alone.generated_text));
    const metrics = await (await send('/metrics')).text();
    expect(Number(/honnx_generated_tokens_total\{function="generate",version="local"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(24 * 7);
  });
});

// What `honnx serve` does at start: one bundle per function in .cache, worker threads started from it (no tsx).
describe('worker threads started from bundled entries', () => {
  it('bundles each function once under a content hash, and serves from the bundle', async () => {
    const functions = (await discoverFunctions(join(projectRoot, 'functions'))).filter((fn) => fn.name === 'classify');
    const folder = join(projectRoot, '.cache/test-worker-bundles');
    const files = functions.map(({ name, file }) => ({ name, file: file! }));
    const bundles = await bundleWorkerEntries(projectRoot, files, folder);
    expect(await bundleWorkerEntries(projectRoot, files, folder)).toEqual(bundles);
    const bundle = bundles.get('classify')!;
    expect(bundle).toMatch(/classify-[0-9a-f]{16}\.mjs$/);
    const code = await readFile(bundle, 'utf8');
    expect(code).not.toMatch(/from\s*"tsx|tsx\/esm/);
    // onnxruntime-node stays outside the bundle, imported from honnx's own node_modules by path.
    expect(code).toContain(join(projectRoot, 'node_modules/onnxruntime-node'));

    const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
    const created = createNodeApp({ functions, engine: refusingEngine, searchPaths, workerThreads: { count: 1, bundles } });
    try {
      await created.ready();
      const send = sendThrough(created.app.fetch);
      const [[best]] = (await (await send('/classify', postJson({ inputs: 'I love this' }))).json()) as { label: string; score: number }[][];
      // sentiment-sst2-mini sanity.json: "I love this" → POSITIVE 0.9942.
      expect(best.label).toBe('POSITIVE');
      expect(best.score).toBeCloseTo(0.9942, 3);
    } finally {
      await created.release();
    }
  });
});
