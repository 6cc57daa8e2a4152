import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { summarizeEndpoint } from '../../src/endpoints/summarize-endpoint.ts';
import type { GenerateStreamEvent } from '../../src/endpoints/generate-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { createLogger } from '../../src/http/logging/logger.ts';
import { loadModelBundle, type ModelBundle } from '../../src/models/model-bundle.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import { createFunctionHost, type FunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { encodePrompt } from '../../src/tasks/generate/generate-text.ts';
import { buildSummaryPrompt, createGenerativeSummarizer } from '../../src/tasks/summarize/generative.ts';
import { postJson, readErrorBody, sendThrough, type SendRequest } from '../support/requests.ts';
import { readServerSentEvents } from '../support/server-sent-events.ts';
import { mirrorFolder, mirrorModelFiles } from '../support/shared-models.ts';
import { transports } from '../support/transports.ts';
import { readConfidenceCount } from '../support/confidence-metric.ts';

const STORY = 'Tom had a red ball. He played with it in the park every day. One day the ball rolled into the pond, and a duck brought it back.';
const GREEDY = { max_new_tokens: 24, do_sample: false };

/** The `data` of each event of a server-sent event stream, parsed, and the names of any named events. */
async function readStream(response: Response): Promise<{ events: GenerateStreamEvent[]; named: string[] }> {
  const blocks = readServerSentEvents(await response.text());
  return { events: blocks.filter((block) => block.event === undefined).map((block) => JSON.parse(block.data) as GenerateStreamEvent), named: blocks.flatMap((block) => block.event ?? []) };
}

describe('generative summarize, streamed (tinystories-260k, TL;DR prompt)', () => {
  let bundle: ModelBundle;
  let host: FunctionHost;
  let extractiveHost: FunctionHost;
  const lines: Record<string, unknown>[] = [];
  let app: ReturnType<typeof createHonnxApp>;
  beforeAll(async () => {
    const engine = createNodeEngine({ threads: 1 });
    bundle = await loadModelBundle(mirrorModelFiles('tinystories-260k'), engine);
    const fn = defineFunction({ task: summarizeEndpoint, model: 'tinystories-260k', limits: { maxNewTokens: 32 } });
    host = createFunctionHost('tldr', fn.definition, async () => bundle);
    const extractive = defineFunction({ task: summarizeEndpoint, model: 'summarize-bbc-extractive' });
    extractiveHost = createFunctionHost('digest', extractive.definition, () => loadModelBundle(mirrorModelFiles('summarize-bbc-extractive'), engine));
    await Promise.all([host.load(), extractiveHost.load()]);
    const logger = createLogger({ level: 'info', write: (line) => void lines.push(JSON.parse(line)) });
    app = createHonnxApp({ functions: [{ fn, host }, { fn: extractive, host: extractiveHost }], logger });
  }, 60_000);
  afterAll(async () => {
    await host?.release();
    await extractiveHost?.release();
  });

  it('says in GET /<function> which summarizers stream', async () => {
    const generative = (await (await app.request('/tldr')).json()) as Record<string, unknown>;
    const extractive = (await (await app.request('/digest')).json()) as Record<string, unknown>;
    expect(generative).toMatchObject({ kind: 'generative', streaming: true });
    expect(extractive).toMatchObject({ kind: 'extractive', streaming: false });
  });

  for (const transport of transports) {
    describe(`over the ${transport.name}`, () => {
      let send: SendRequest;
      let stop: () => Promise<void>;
      beforeAll(async () => {
        ({ send, stop } = await transport.start(app.fetch));
      });
      afterAll(() => stop());

      it('streams tokens that join to the greedy summary, ending with it and its confidence', async () => {
        const plainResponse = await send('/tldr', postJson({ inputs: STORY, parameters: { ...GREEDY, return_confidence: true } }));
        expect(plainResponse.status).toBe(200);
        const [plain] = (await plainResponse.json()) as { summary_text: string; confidence: number }[];
        expect(plain.summary_text.length).toBeGreaterThan(0);
        expect(plain.summary_text).toBe(plain.summary_text.trim());

        const response = await send('/tldr', postJson({ inputs: STORY, parameters: { ...GREEDY, return_confidence: true }, stream: true }));
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
        const { events, named } = await readStream(response);
        expect(named).toEqual([]);
        expect(events.length).toBeGreaterThan(1);
        expect(events.map((event) => event.token.text).join('')).toBe(plain.summary_text);
        expect(events.slice(0, -1).every((event) => event.generated_text === null && event.confidence === undefined)).toBe(true);
        const last = events.at(-1)!;
        expect(last.generated_text).toBe(plain.summary_text);
        expect(last.confidence).toBeCloseTo(plain.confidence, 12);

        // The confidence is the geometric mean of the summary's tokens as a teacher-forced run of the model scores them.
        const summarizer = await createGenerativeSummarizer(bundle);
        const ids = events.map((event) => event.token.id);
        const eos = new Set(summarizer.generator.defaults.eosTokenIds);
        const [logprobs] = await summarizer.generator.model.scoreContinuations!(encodePrompt(summarizer.generator, buildSummaryPrompt(summarizer, STORY)), [ids]);
        const counted = logprobs.filter((_, index) => !eos.has(ids[index]));
        expect(last.confidence).toBeCloseTo(Math.exp(counted.reduce((sum, logprob) => sum + logprob, 0) / counted.length), 5);
      });

      it('logs and counts a stream\'s confidence, shown or not; min_confidence flags it', async () => {
        const before = await readConfidenceCount(send, 'tldr');
        const id = `stream-${transport.name.replace(/\W/g, '-')}`;
        const response = await send('/tldr', { ...postJson({ inputs: STORY, parameters: { ...GREEDY, min_confidence: 1 }, stream: true }), headers: { 'content-type': 'application/json', 'x-request-id': id } });
        const { events } = await readStream(response);
        const last = events.at(-1)!;
        expect(last.generated_text).not.toBeNull();
        expect('confidence' in last || 'low_confidence' in last).toBe(false);
        await vi.waitFor(() => expect(lines.find((line) => line.request_id === id)).toBeDefined());
        const line = lines.find((entry) => entry.request_id === id)!;
        expect(line).toMatchObject({ function: 'tldr', status: 200, streamed: 'complete', low_confidence: true });
        expect(line.confidence).toBeGreaterThan(0);
        expect(line.confidence).toBeLessThan(1);
        expect(await readConfidenceCount(send, 'tldr')).toBe(before + 1);
      });

      it('refuses, before any work, a list with stream and stream on an extractive summarizer, naming the field', async () => {
        const list = await send('/tldr', postJson({ inputs: [STORY, STORY], parameters: GREEDY, stream: true }));
        expect(list.status).toBe(400);
        expect((await readErrorBody(list)).message).toMatch(/^stream: true takes one text in inputs, and this request has a list of 2/);
        const extractive = await send('/digest', postJson({ inputs: STORY, stream: true }));
        expect(extractive.status).toBe(400);
        expect((await readErrorBody(extractive)).message).toMatch(/^stream: true needs a generative summarizer/);
        const over = await send('/tldr', postJson({ inputs: STORY, parameters: { max_new_tokens: 33 }, stream: true }));
        expect(over.status).toBe(413);
        expect((await readErrorBody(over)).message).toContain("over this function's limit of 32");
      });
    });
  }
});

// As honnx serve runs it: the model on a worker thread, the stream's events (and its confidence) read on the HTTP one.
describe('generative summarize streamed from a worker thread', () => {
  const projectRoot = join(import.meta.dirname, '../..');
  let folder: string;
  let send: SendRequest;
  let release: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    folder = await mkdtemp(join(projectRoot, '.functions-summarize-stream-'));
    await writeFile(
      join(folder, 'tldr.ts'),
      "import { defineFunction, summarizeEndpoint } from '../src/index.ts';\nexport default defineFunction({ task: summarizeEndpoint, model: 'tinystories-260k', limits: { maxNewTokens: 32 } });\n",
    );
    const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
    const created = createNodeApp({ functions: await discoverFunctions(folder), engine: createNodeEngine({ threads: 1 }), searchPaths, workerThreads: { count: 1 } });
    await created.ready();
    release = created.release;
    send = sendThrough(created.app.fetch);
  }, 120_000);
  afterAll(async () => {
    await release?.();
    await rm(folder, { recursive: true, force: true });
  });

  it('gives the same tokens, summary and confidence as the answer that is not streamed', async () => {
    const [plain] = (await (await send('/tldr', postJson({ inputs: STORY, parameters: { ...GREEDY, return_confidence: true } }))).json()) as { summary_text: string; confidence: number }[];
    const { events } = await readStream(await send('/tldr', postJson({ inputs: STORY, parameters: { ...GREEDY, return_confidence: true }, stream: true })));
    expect(events.map((event) => event.token.text).join('')).toBe(plain.summary_text);
    expect(events.at(-1)).toMatchObject({ generated_text: plain.summary_text, confidence: plain.confidence });
    expect(await readConfidenceCount(send, 'tldr')).toBe(2);
  });
});
