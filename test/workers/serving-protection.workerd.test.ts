import * as ort from 'onnxruntime-web/wasm';
import wasmModule from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import classify from '../../functions/classify.ts';
import { classifyEndpoint } from '../../src/endpoints/classify-endpoint.ts';
import { defineFunction, type HonnxFunction } from '../../src/spec/define-function.ts';
import { createWorker } from '../../src/runtime/workers/create-worker.ts';
import type { ModelSource } from '../../src/runtime/workers/model-source.ts';
import { checkPrometheusText } from '../observability/prometheus-text-format.ts';
import { postJson } from '../support/requests.ts';
import { modelService } from './workerd-context.ts';

// Auth, CORS, metrics and request logs inside workerd, configured as a deployed worker is: through its bindings
// (secrets and vars). The same middleware as on Node; here only what the Workers platform changes is checked.

const fromMirror = (fn: HonnxFunction): ModelSource => ({ from: 'assets', binding: 'MODELS', prefix: `/shared/${fn.definition.model}` });
const KEY = 'worker-secret-key-0123456789abcdef';
const ORIGIN = 'https://app.example.com';

function createClassifyWorker(fn: HonnxFunction = classify) {
  return createWorker({ ort, wasmModule, functions: [{ name: 'classify', fn, model: fromMirror(fn) }] });
}

const withKey = (init: RequestInit, key = KEY): RequestInit => ({ ...init, headers: { ...(init.headers as object), authorization: `Bearer ${key}` } });

describe('serving protection and observability inside workerd', () => {
  afterEach(() => vi.restoreAllMocks());

  it('takes API keys, CORS origins and the log level from the bindings; keeps probes open', async () => {
    const logged = vi.spyOn(console, 'log');
    const worker = createClassifyWorker();
    const env = { MODELS: modelService, HONNX_API_KEYS: KEY, HONNX_CORS_ORIGINS: ORIGIN, HONNX_LOG_LEVEL: 'warn' };
    const send = (path: string, init?: RequestInit) => worker.fetch(new Request(`https://honnx.test${path}`, init), env);

    const missing = await send('/classify', postJson({ inputs: 'I love this' }));
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="honnx"');
    expect((await send('/classify', withKey(postJson({ inputs: 'I love this' }), 'wrong'))).status).toBe(401);
    const answer = await send('/classify', withKey({ ...postJson({ inputs: 'I love this' }), headers: { 'content-type': 'application/json', origin: ORIGIN } }));
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { label: string }[][])[0][0].label).toBe('POSITIVE');
    expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN);

    const preflight = await send('/classify', { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect((await send('/healthz')).status).toBe(200);
    expect((await send('/readyz')).status).toBe(200);
    // HONNX_LOG_LEVEL=warn: no info line for any of these requests.
    expect(logged.mock.calls.filter(([line]) => String(line).includes('"event":"request"'))).toEqual([]);
  });

  it("serves this isolate's metrics in Prometheus text format", async () => {
    const worker = createClassifyWorker();
    const env = { MODELS: modelService, HONNX_API_KEYS: KEY, HONNX_LOG_LEVEL: 'warn' };
    const send = (path: string, init?: RequestInit) => worker.fetch(new Request(`https://honnx.test${path}`, init), env);
    for (const text of ['I love this', 'I hate this']) expect((await send('/classify', withKey(postJson({ inputs: text })))).status).toBe(200);
    expect((await send('/metrics')).status).toBe(401);
    const response = await send('/metrics', withKey({}));
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = checkPrometheusText(await response.text());
    const requests = families.find((family) => family.name === 'honnx_requests_total');
    expect(requests?.samples).toEqual([{ name: 'honnx_requests_total', labels: { function: 'classify', status: '200' }, value: 2 }]);
    const loadTime = families.find((family) => family.name === 'honnx_model_load_seconds')?.samples[0];
    expect(loadTime?.labels).toEqual({ function: 'classify' });
    expect(loadTime?.value).toBeGreaterThanOrEqual(0);
    // The scheduler's events reach the isolate's metrics: two runs of one request each.
    const sample = (family: string, name: string) => families.find((found) => found.name === family)?.samples.find((found) => found.name === name);
    expect(sample('honnx_batch_size', 'honnx_batch_size_count')?.value).toBe(2);
    expect(sample('honnx_batch_size', 'honnx_batch_size_sum')?.value).toBe(2);
    expect(sample('honnx_inference_seconds', 'honnx_inference_seconds_count')?.value).toBe(2);
    expect(sample('honnx_queue_wait_seconds', 'honnx_queue_wait_seconds_count')?.value).toBe(2);
  });

  it('logs one JSON line per request to the console, without the text or the key', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    const worker = createClassifyWorker();
    const env = { MODELS: modelService, HONNX_API_KEYS: KEY };
    const response = await worker.fetch(
      new Request('https://honnx.test/classify', withKey({ ...postJson({ inputs: 'Zanzibar diary' }), headers: { 'content-type': 'application/json', 'x-request-id': 'edge-7' } })),
      env,
    );
    expect(response.headers.get('x-request-id')).toBe('edge-7');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((record) => record.request_id === 'edge-7');
    expect(records).toEqual([expect.objectContaining({ event: 'request', function: 'classify', status: 200, method: 'POST' })]);
    expect(lines.join('\n')).not.toContain('Zanzibar');
    expect(lines.join('\n')).not.toContain(KEY);
  });

  it("refuses every request when a function's key secret is missing, rather than serve it open", async () => {
    const guarded = defineFunction({ task: classifyEndpoint, model: 'sentiment-sst2-mini', auth: { keysEnv: 'CLASSIFY_KEYS' } });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const worker = createClassifyWorker(guarded);
    const refused = await worker.fetch(new Request('https://honnx.test/classify', postJson({ inputs: 'hi' })), { MODELS: modelService });
    expect(refused.status).toBe(500);
    expect(((await refused.json()) as { error: { code: string; message: string } }).error).toEqual({
      code: 'server_misconfigured',
      message: 'function classify reads its API keys from CLASSIFY_KEYS, which is not set',
    });
    const keyed = createClassifyWorker(guarded);
    const served = await keyed.fetch(new Request('https://honnx.test/classify', withKey(postJson({ inputs: 'I love this' }))), { MODELS: modelService, CLASSIFY_KEYS: KEY, HONNX_LOG_LEVEL: 'warn' });
    expect(served.status).toBe(200);
  });
});
