import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { classifyEndpoint, defineFunction } from '../../src/index.ts';
import { createNodeApp, PinnedVersionError } from '../../src/runtime/node/create-node-app.ts';
import type { RunningServer } from '../../src/runtime/node/node-server.ts';
import { routesToCanary } from '../../src/serving/swappable-host.ts';
import { CANARY_MODEL as MODEL, canarySanity as sanity, digestOf, makeVersion, prepareFleetProject, restoreEnvironment, startFleetServer, swapLabels, writeEvalSet } from '../support/canary-fixtures.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { parseWithReference } from '../observability/prometheus-reference-parser.ts';
import { checkPrometheusText } from '../observability/prometheus-text-format.ts';

const ENVIRONMENT = ['HONNX_MIRROR', 'HONNX_CACHE', 'HONNX_LOG_LEVEL'] as const;
const saved = Object.fromEntries(ENVIRONMENT.map((key) => [key, process.env[key]]));

let root: string;
let server: RunningServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'honnx-declared-canary-'));
  await prepareFleetProject(root);
  await writeEvalSet(root, 'sentiment');
  await writeEvalSet(root, 'reviews');
  await makeVersion(root, 2, (config) => ({ ...config, honnx_version: 2 }));
  await makeVersion(root, 3, swapLabels);
  server = await startFleetServer(root, [
    { name: 'sentiment', fn: defineFunction({ task: classifyEndpoint, model: MODEL, canary: { version: 'v2', percent: 30 } }) },
    // v3 scores 0 on the eval set: the declared canary is refused at start, and the active version serves alone.
    { name: 'reviews', fn: defineFunction({ task: classifyEndpoint, model: MODEL, canary: { version: 'v3', percent: 50 } }) },
  ]);
});
afterAll(async () => {
  await server?.close();
  restoreEnvironment(saved);
  await rm(root, { recursive: true, force: true });
});

const versions = async (name: string) => ((await (await fetch(`${server.url}/${name}`)).json()) as { version: Record<string, unknown> }).version;

describe('a canary declared in defineFunction', () => {
  it('starts with the server, through the eval gate, and takes its share of requests', async () => {
    expect(await versions('sentiment')).toEqual({ active: 'local', canary: { version: digestOf(2), percent: 30 } });
    expect(await versions('reviews')).toEqual({ active: 'local' });

    const ids = Array.from({ length: 64 }, (_, index) => `declared-${index}`);
    const responses = await Promise.all(
      ids.map((id, index) =>
        fetch(`${server.url}/sentiment`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: JSON.stringify({ inputs: sanity.sentences[index % sanity.sentences.length].text }) }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(ids.map(() => 200));
    await Promise.all(responses.map((response) => response.arrayBuffer()));
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const expectedCanary = ids.filter((id) => routesToCanary(30, id, 0)).length;
    expect(expectedCanary).toBeGreaterThan(0);
    expect(text).toContain(`honnx_requests_total{function="sentiment",status="200",version="${digestOf(2)}"} ${expectedCanary}\n`);
    expect(text).toContain(`honnx_requests_total{function="sentiment",status="200",version="local"} ${ids.length - expectedCanary}\n`);

    // The queue, batch, inference and load series are kept per version too. Read strictly (checkPrometheusText):
    // parse-prometheus-text-format folds a histogram's label sets into one, so it cannot tell versions apart there;
    // it reads the gauges.
    const families = checkPrometheusText(text);
    const samplesOf = (family: string) => families.find((candidate) => candidate.name === family)?.samples.filter((sample) => sample.labels.function === 'sentiment') ?? [];
    for (const family of ['honnx_queue_wait_seconds', 'honnx_inference_seconds', 'honnx_batch_size', 'honnx_queue_depth', 'honnx_model_load_seconds']) {
      expect(new Set(samplesOf(family).map((sample) => sample.labels.version)), family).toEqual(new Set(['local', digestOf(2)]));
    }
    for (const family of ['honnx_queue_depth', 'honnx_model_load_seconds']) {
      const read = parseWithReference(text).find((candidate) => candidate.name === family)!;
      expect(new Set(read.metrics.filter((metric) => metric.labels?.function === 'sentiment').map((metric) => metric.labels?.version)), family).toEqual(new Set(['local', digestOf(2)]));
    }
    const countOf = (version: string) => samplesOf('honnx_queue_wait_seconds').find((sample) => sample.name === 'honnx_queue_wait_seconds_count' && sample.labels.version === version)?.value;
    // Each request left its version's queue once (the canary's eval cases did too, before it took traffic).
    expect(countOf('local')).toBe(ids.length - expectedCanary);
    expect(countOf(digestOf(2))).toBe(expectedCanary + sanity.sentences.length);
  });

  it('refuses to start when the version store does not hold the canary, saying what it holds', () => {
    const start = () =>
      createNodeApp({
        functions: [{ name: 'sentiment', fn: defineFunction({ task: classifyEndpoint, model: MODEL, canary: { version: 'v9', percent: 10 } }) }],
        engine: createNodeEngine({ threads: 1 }),
        searchPaths: { projectModels: join(root, 'models'), cache: join(root, 'cache'), mirror: mirrorFolder, hubEndpoint: 'http://127.0.0.1:1' },
      });
    expect(start).toThrow(PinnedVersionError);
    expect(start).toThrow(`function sentiment declares a canary of model ${MODEL} (fp32) at version "v9", which this machine does not hold`);
    expect(start).toThrow(`${digestOf(2)} (v2)`);
    expect(start).toThrow(`${digestOf(3)} (v3)`);
  });

  it('defineFunction refuses a malformed canary, naming the field', () => {
    const define = (canary: unknown) => () => defineFunction({ task: classifyEndpoint, model: MODEL, canary: canary as { version: string; percent: number } });
    expect(define({ version: 'v2', percent: 0 })).toThrow('canary.percent is a number above 0 and at most 100 (got 0)');
    expect(define({ version: 'v2', percent: 101 })).toThrow('canary.percent is a number above 0 and at most 100 (got 101)');
    expect(define({ version: 'v2', percent: '20' })).toThrow('canary.percent is a number above 0 and at most 100 (got "20")');
    expect(define({ version: '', percent: 20 })).toThrow('canary.version is a non-empty version');
    expect(define(null)).toThrow('canary is { version, percent }');
    expect(define({ version: 'v2', percent: 100 })().definition.canary).toEqual({ version: 'v2', percent: 100 });
  });
});
