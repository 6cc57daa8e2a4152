import * as ort from 'onnxruntime-web/wasm';
import wasmModule from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import classify from '../../functions/classify.ts';
import generate from '../../functions/generate.ts';
import langid from '../../functions/langid.ts';
import summarize from '../../functions/summarize.ts';
import { classifyEndpoint } from '../../src/http/classify-endpoint.ts';
import { defineFunction, type HonnxFunction } from '../../src/http/define-function.ts';
import { createWorker, type HonnxWorker } from '../../src/runtime/workers/create-worker.ts';
import type { FetcherLike } from '../../src/runtime/workers/fetcher-model-files.ts';
import type { ModelSource } from '../../src/runtime/workers/model-source.ts';
import { modelService } from './workerd-context.ts';

// test/support/transports.ts cannot be imported here: it loads @hono/node-server, which crashes workerd.
const postJson = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

const fromMirror = (fn: HonnxFunction): ModelSource => ({ from: 'assets', binding: 'MODELS', prefix: `/shared/${fn.definition.model}` });

function createDefaultWorker(): HonnxWorker {
  return createWorker({
    ort,
    wasmModule,
    functions: [
      { name: 'classify', fn: classify, model: fromMirror(classify) },
      { name: 'langid', fn: langid, model: fromMirror(langid) },
      { name: 'summarize', fn: summarize, model: fromMirror(summarize) },
      { name: 'generate', fn: generate, model: fromMirror(generate) },
    ],
  });
}

async function readSharedJson<T>(path: string): Promise<T> {
  return (await (await modelService.fetch(`https://honnx-model.internal/shared/${path}`)).json()) as T;
}

async function readErrorBody(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

describe('the default functions served by createWorker inside workerd', () => {
  const worker = createDefaultWorker();
  const send = (path: string, init?: RequestInit) => worker.fetch(new Request(new URL(path, 'https://honnx.test'), init), { MODELS: modelService });

  it('classify: the same answer shape and scores as on Node', async () => {
    const response = await send('/classify', postJson({ inputs: 'I love this' }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { label: string; score: number }[][];
    expect(body[0][0].label).toBe('POSITIVE');
    // sentiment-sst2-mini sanity.json: "I love this" → POSITIVE 0.99422.
    expect(body[0][0].score).toBeCloseTo(0.9942, 3);
    const batch = (await (await send('/classify', postJson({ inputs: ['I love this', 'I hate this'], parameters: { top_k: 1 } }))).json()) as { label: string }[][];
    expect(batch.map((labels) => labels.map((entry) => entry.label))).toEqual([['POSITIVE'], ['NEGATIVE']]);
  });

  it('GET /<function> describes the function, its loaded model and the WASM execution provider', async () => {
    const info = (await (await send('/classify')).json()) as Record<string, any>;
    expect(info.task).toBe('classify');
    expect(info.state).toBe('ready');
    expect(info.engine).toBe('onnxruntime-web');
    expect(info.execution_provider).toBe('wasm');
    expect(info.labels).toEqual(['NEGATIVE', 'POSITIVE']);
    expect(info.max_input_tokens).toBe(128);
  });

  it('langid: top 3 languages', async () => {
    const body = (await (await send('/langid', postJson({ inputs: 'Ich liebe dieses Buch sehr.' }))).json()) as { label: string; score: number }[][];
    expect(body[0]).toHaveLength(3);
    expect(body[0][0].label).toBe('de');
    expect(body[0][0].score).toBeCloseTo(0.9991, 3);
  });

  it('summarize: the held-out article gives the summary its sanity.json records', async () => {
    const raw = await (await modelService.fetch('https://honnx-model.internal/shared/datasets/bbc-news-summary/BBC News Summary/News Articles/business/026.txt')).text();
    const article = raw.split('\n').slice(1).join('\n');
    const sanity = (await readSharedJson<{ cases: { summary_k3: string }[] }>('summarize-bbc-extractive/sanity.json')).cases[0];
    const answer = await (await send('/summarize', postJson({ inputs: article }))).json();
    expect(answer).toEqual([{ summary_text: sanity.summary_k3 }]);
  });

  it('generate: greedy continuation equal to the published sample', async () => {
    const sample = (await readSharedJson<{ greedy: { prompt: string; max_new_tokens: number; greedy_text: string }[] }>('tinystories-260k/sanity.json')).greedy[1];
    const response = await send('/generate', postJson({ inputs: sample.prompt, parameters: { max_new_tokens: sample.max_new_tokens, do_sample: false, return_full_text: true } }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([{ generated_text: sample.greedy_text }]);
  });

  it('answers probes, 404, 405, 400, 413 and 415 as Node does', async () => {
    expect((await send('/healthz')).status).toBe(200);
    const ready = await send('/readyz');
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { functions: Record<string, string> }).functions).toEqual({ classify: 'ready', langid: 'ready', summarize: 'ready', generate: 'ready' });

    const notFound = await send('/nope', postJson({ inputs: 'hi' }));
    expect(notFound.status).toBe(404);
    expect((await readErrorBody(notFound)).message).toMatch(/\/classify/);
    const wrongMethod = await send('/classify', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');

    expect((await readErrorBody(await send('/classify', postJson('{"inputs": "unterminated')))).code).toBe('invalid_json');
    expect((await readErrorBody(await send('/classify', postJson({ inputs: 42 })))).code).toBe('invalid_inputs');
    expect((await readErrorBody(await send('/classify', postJson({ inputs: 'hi', parameters: { top_kk: 2 } })))).code).toBe('invalid_parameters');

    const tooManyTokens = await send('/classify', postJson({ inputs: 'good '.repeat(300) }));
    expect(tooManyTokens.status).toBe(413);
    expect((await readErrorBody(tooManyTokens)).message).toMatch(/truncation/);
    const tooBig = await send('/summarize', postJson({ inputs: 'A sentence. '.repeat(30_000) }));
    expect(tooBig.status).toBe(413);
    expect((await readErrorBody(tooBig)).code).toBe('body_too_large');

    const notJson = await send('/classify', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'I love this' });
    expect(notJson.status).toBe(415);
  });
});

describe('loading in a fresh isolate', () => {
  /** Counts reads of each model file, to see how many times the model was loaded. */
  function countingService() {
    const reads = new Map<string, number>();
    const fetcher: FetcherLike = {
      fetch(input, init) {
        const path = new URL(input instanceof Request ? input.url : input).pathname;
        if ((init?.method ?? 'GET') === 'GET') reads.set(path, (reads.get(path) ?? 0) + 1);
        return modelService.fetch(input, init);
      },
    };
    return { fetcher, reads };
  }

  it('creates the session once when the first requests arrive together, and every one is answered', async () => {
    const worker = createWorker({ ort, wasmModule, functions: [{ name: 'classify', fn: classify, model: fromMirror(classify) }] });
    const { fetcher, reads } = countingService();
    const texts = ['I love this', 'I hate this', 'What a wonderful film', 'Dull and far too long', 'ok'];
    const responses = await Promise.all(
      texts.map((text) => worker.fetch(new Request('https://honnx.test/classify', postJson({ inputs: text })), { MODELS: fetcher })),
    );
    expect(responses.map((response) => response.status)).toEqual(texts.map(() => 200));
    const labels = await Promise.all(responses.map(async (response) => ((await response.json()) as { label: string }[][])[0][0].label));
    expect(labels.slice(0, 2)).toEqual(['POSITIVE', 'NEGATIVE']);
    expect(reads.get('/shared/sentiment-sst2-mini/onnx/model.onnx')).toBe(1);
    expect(worker.hosts().map((host) => host.state())).toEqual(['ready']);
  });

  it('falls back to WASM where the host has no WebGPU, and says so in GET /<function>', async () => {
    expect((globalThis.navigator as { gpu?: unknown } | undefined)?.gpu).toBeUndefined();
    const gpuFirst = defineFunction({ task: classifyEndpoint, model: 'sentiment-sst2-mini', executionProviders: ['webgpu', 'wasm'] });
    const worker = createWorker({ ort, wasmModule, functions: [{ name: 'sentiment', fn: gpuFirst, model: fromMirror(gpuFirst) }] });
    const info = (await (await worker.fetch(new Request('https://honnx.test/sentiment'), { MODELS: modelService })).json()) as Record<string, unknown>;
    expect(info.state).toBe('ready');
    expect(info.execution_provider).toBe('wasm');
  });

  it('answers 503 naming the missing binding when the model cannot be reached', async () => {
    const worker = createWorker({ ort, wasmModule, functions: [{ name: 'classify', fn: classify, model: { from: 'r2', binding: 'NO_SUCH_BUCKET' } }] });
    const response = await worker.fetch(new Request('https://honnx.test/classify', postJson({ inputs: 'hi' })), {});
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/NO_SUCH_BUCKET/);
  });
});

describe('models from an R2 bucket', () => {
  let bucket: { put(key: string, value: ArrayBuffer): Promise<unknown> };
  beforeAll(async () => {
    const { env } = await import('cloudflare:workers');
    bucket = env.MODEL_BUCKET as typeof bucket;
    for (const path of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'onnx/model.onnx']) {
      const response = await modelService.fetch(`https://honnx-model.internal/shared/sentiment-sst2-mini/${path}`);
      await bucket.put(`sentiment-sst2-mini/${path}`, await response.arrayBuffer());
    }
  });

  it('loads the model from the bucket and answers as from any other source', async () => {
    const { env } = await import('cloudflare:workers');
    const worker = createWorker({ ort, wasmModule, functions: [{ name: 'classify', fn: classify, model: { from: 'r2', binding: 'MODEL_BUCKET' } }] });
    const response = await worker.fetch(new Request('https://honnx.test/classify', postJson({ inputs: 'I love this' })), env);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { label: string; score: number }[][])[0][0].score).toBeCloseTo(0.9942, 3);
    const info = (await (await worker.fetch(new Request('https://honnx.test/classify'), env)).json()) as { model: { location: string } };
    expect(info.model.location).toBe('r2:MODEL_BUCKET/sentiment-sst2-mini');
  });
});
