import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createServingMetrics } from '../../src/http/metrics/serving-metrics.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import { captureLogs } from '../observability/serving-fixtures.ts';
import { postJson, sendThrough } from '../support/requests.ts';
import { mirrorFolder } from '../support/shared-models.ts';

/**
 * Issue 16: requests still running or queued when a shutdown releases their function are a condition of the
 * server, not a fault: 503 `shutting_down`, logged and counted as such, with no stack trace on stderr. And a
 * released function starts nothing again (a worker lane used to start a fresh thread for the next queued request,
 * which was still loading or running when the process exited).
 */
const projectRoot = join(import.meta.dirname, '../..');
const REQUESTS = 40;

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each([
  { lanes: 'a worker thread', count: 1 },
  { lanes: 'the HTTP thread', count: 0 },
])('generations in flight when the function is released, on $lanes', ({ count }) => {
  it('are answered 503 shutting_down, never 500, with nothing on stderr, and nothing restarts', async () => {
    const functions = (await discoverFunctions(join(projectRoot, 'functions'))).filter((named) => named.name === 'generate');
    const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
    const { logger, records } = captureLogs('info');
    const metrics = createServingMetrics();
    const { app, ready, release } = createNodeApp({
      functions,
      engine: createNodeEngine({ threads: 1 }),
      searchPaths,
      serving: { logger, metrics },
      workerThreads: { count },
    });
    await ready();
    const send = sendThrough(app.fetch);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const body = (seed: number) => ({ inputs: 'Once upon a time', parameters: { max_new_tokens: 256, do_sample: true, seed } });
    const answers = Array.from({ length: REQUESTS }, (_, seed) =>
      send('/generate', postJson(body(seed))).then(async (response) => ({ status: response.status, body: (await response.json()) as { error?: { code: string } } })),
    );
    // Released once generation is under way: some requests are in the step loop, the rest wait in the queue.
    await vi.waitFor(async () => expect(await (await send('/metrics')).text()).toMatch(/honnx_generated_tokens_total\{function="generate",version="local"\} [1-9]/), { timeout: 20_000, interval: 20 });
    await release();
    const outcomes = await Promise.all(answers);
    const after = await send('/generate', postJson(body(REQUESTS)));

    const refused = outcomes.filter((outcome) => outcome.status !== 200);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.map((outcome) => [outcome.status, outcome.body.error?.code])).toEqual(refused.map(() => [503, 'shutting_down']));
    expect(after.status).toBe(503);
    expect(((await after.json()) as { error: { code: string } }).error.code).toBe('shutting_down');
    expect(errors).not.toHaveBeenCalled();
    const scrape = await (await send('/metrics')).text();
    expect(scrape).not.toMatch(/honnx_requests_total\{function="generate",[^}]*status="500"/);
    expect(scrape).toMatch(/honnx_requests_total\{function="generate",[^}]*status="503"[^}]*\} [1-9]/);
    // Each log line of a generate request says shutting_down or ok; none reports an internal error.
    const lines = records().filter((record) => record.event === 'request' && record.path === '/generate');
    expect(lines.length).toBe(REQUESTS + 1);
    expect(lines.filter((line) => line.status !== 200).every((line) => line.status === 503 && line.error_code === 'shutting_down')).toBe(true);
  }, 60_000);
});
