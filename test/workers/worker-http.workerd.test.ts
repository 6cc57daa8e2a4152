import * as ort from 'onnxruntime-web/wasm';
import wasmModule from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import classify from '../../functions/classify.ts';
import { classifyEndpoint } from '../../src/endpoints/classify-endpoint.ts';
import { defineFunction, type HonnxFunction } from '../../src/spec/define-function.ts';
import { createWorker, type HonnxWorker } from '../../src/runtime/workers/create-worker.ts';
import type { FetcherLike } from '../../src/runtime/workers/fetcher-model-files.ts';
import type { ModelSource } from '../../src/runtime/workers/model-source.ts';
import { functionHttpCases } from '../http/functions.case.ts';
import { servesShipped } from '../support/function-set.ts';
import { postJson, sendThrough } from '../support/requests.ts';
import { modelService, readSharedText } from './workerd-context.ts';

const fromMirror = (fn: HonnxFunction): ModelSource => ({ from: 'assets', binding: 'MODELS', prefix: `/shared/${fn.definition.model}` });

// The function set, as discovery found it in Node (test/workers/function-set-global-setup.ts), each imported from its file.
const testFunctions = inject('testFunctions');
const discovered = await Promise.all(
  testFunctions.map(async ({ name, file }) => ({ name, fn: ((await import(/* @vite-ignore */ file!)) as { default: HonnxFunction }).default })),
);

/** Every discovered function, as `wrangler dev` serves them, with models from the mirror. */
function createDefaultWorker(): HonnxWorker {
  return createWorker({ ort, wasmModule, functions: discovered.map(({ name, fn }) => ({ name, fn, model: fromMirror(fn) })) });
}

// The shared HTTP cases (test/http/functions.case.ts), as Node runs them, against the worker's fetch.
describe('the discovered functions served by createWorker inside workerd', () => {
  const worker = createDefaultWorker();
  const send = sendThrough((request) => worker.fetch(request, { MODELS: modelService }), 'https://honnx.test');

  functionHttpCases({ functions: testFunctions, send, readSharedText, engine: { name: 'onnxruntime-web', executionProvider: 'wasm' } });

  it.runIf(servesShipped(testFunctions, 'classify'))('reports in a Server-Timing header how long the worker and ONNX Runtime took', async () => {
    const response = await send('/classify', postJson({ inputs: 'I love this' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('server-timing')).toMatch(/^honnx;dur=\d+\.\d{2}, ort;dur=\d+\.\d{2}$/);
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
