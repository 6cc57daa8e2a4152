import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fleetCommand, type FleetAction } from '../../src/cli/fleet-commands.ts';
import { classifyEndpoint, defineFunction, generateEndpoint } from '../../src/index.ts';
import type { RunningServer } from '../../src/runtime/node/node-server.ts';
import { routesToCanary } from '../../src/serving/swappable-host.ts';
import { CANARY_MODEL, canarySanity, digestOf, makeVersion, prepareFleetProject, restoreEnvironment, startFleetServer, swapLabels, writeEvalSet } from '../support/canary-fixtures.ts';

const MODEL = CANARY_MODEL;
const sanity = canarySanity;
const ADMIN_KEY = 'canary-admin-key';
const ENVIRONMENT = ['HONNX_MIRROR', 'HONNX_CACHE', 'HONNX_ADMIN_KEYS', 'HONNX_ADMIN_KEY', 'HONNX_LOG_LEVEL'] as const;
const saved = Object.fromEntries(ENVIRONMENT.map((key) => [key, process.env[key]]));

let root: string;
let server: RunningServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'honnx-canary-'));
  await prepareFleetProject(root);
  await writeEvalSet(root, 'sentiment');
  await makeVersion(root, 2, (config) => ({ ...config, honnx_version: 2 }));
  // v3 has its labels swapped (a bad export): it must never take traffic.
  await makeVersion(root, 3, swapLabels);
  await makeVersion(root, 4, (config) => ({ ...config, honnx_version: 4 }));
  process.env.HONNX_ADMIN_KEYS = ADMIN_KEY;
  process.env.HONNX_ADMIN_KEY = ADMIN_KEY;
  server = await startFleetServer(root, [
    { name: 'sentiment', fn: defineFunction({ task: classifyEndpoint, model: MODEL }) },
    { name: 'generate', fn: defineFunction({ task: generateEndpoint, model: 'tinystories-260k' }) },
  ]);
});
afterAll(async () => {
  await server?.close();
  restoreEnvironment(saved);
  await rm(root, { recursive: true, force: true });
});

async function runFleet(action: FleetAction, ...args: string[]) {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    const status = await fleetCommand(action, [...args, '--url', server.url]);
    return { status, output: log.mock.calls.join('\n'), errors: error.mock.calls.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const ask = (text: string, requestId?: string) =>
  fetch(`${server.url}/sentiment`, { method: 'POST', headers: { 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) }, body: JSON.stringify({ inputs: text }) });
const versions = async () => ((await (await fetch(`${server.url}/sentiment`)).json()) as { version: Record<string, unknown> }).version;

/** One sample of /metrics, by its exact name and labels (written in the order the registry renders them). */
async function readSample(name: string, labels: string): Promise<number | undefined> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Runs `clients` loops of requests until `work` ends; every status answered meanwhile. */
async function underLoad(work: () => Promise<void>, clients = 8): Promise<number[]> {
  let stop = false;
  const statuses: number[] = [];
  const loops = Array.from({ length: clients }, async (_, client) => {
    for (let index = 0; !stop; index++) {
      const response = await ask(sanity.sentences[(client * 7 + index) % sanity.sentences.length].text);
      await response.arrayBuffer();
      statuses.push(response.status);
    }
  });
  try {
    await work();
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  return statuses;
}

describe('canary: a second version beside the active one, for a share of requests', () => {
  it('routes a share of requests by request id, with per-version metrics, refuses a version below the eval gate, and promotes or aborts with no failed request', async () => {
    // A bad version never becomes a canary: the eval gate refuses it, and nothing changes.
    const refused = await runFleet('canary', 'sentiment', 'v3', '50');
    expect(refused.status).toBe(1);
    expect(refused.errors).toMatch(/scored 0\.000 on its eval set .* below the threshold 0\.99; refused, local keeps serving/);
    expect(await versions()).toEqual({ active: 'local' });
    expect((await runFleet('canary', 'sentiment', 'v2', '101')).status).toBe(2);

    const started = await runFleet('canary', 'sentiment', 'v2', '20');
    expect(started.errors).toBe('');
    expect(started.output).toBe(`sentiment: canary ${digestOf(2)} takes 20% of requests beside local, eval 1.000 ≥ 0.99`);
    expect(await versions()).toEqual({ active: 'local', canary: { version: digestOf(2), percent: 20 } });
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string; honnx: { version: unknown } }[] };
    expect(models.data.map((model) => [model.id, model.honnx.version])).toEqual([['generate', { active: 'local' }]]);

    // 400 requests with ids: the split is the ids' hash, so the counts are known exactly, and near 20%.
    const total = 400;
    const ids = Array.from({ length: total }, (_, index) => `canary-test-${index}`);
    const expectedCanary = ids.filter((id) => routesToCanary(20, id, 0)).length;
    expect(expectedCanary).toBeGreaterThan(total * 0.15);
    expect(expectedCanary).toBeLessThan(total * 0.25);
    const answers: { label: string }[][] = [];
    for (let batch = 0; batch < total; batch += 16) {
      const responses = await Promise.all(ids.slice(batch, batch + 16).map((id, offset) => ask(sanity.sentences[(batch + offset) % sanity.sentences.length].text, id)));
      for (const response of responses) {
        expect(response.status).toBe(200);
        answers.push(((await response.json()) as { label: string }[][])[0]);
      }
    }
    // Both versions answer right (v2 only adds a config field).
    answers.forEach((answer, index) => expect(answer[0].label).toBe(sanity.sentences[index % sanity.sentences.length].node.label));
    const served = async (version: string) => (await readSample('honnx_requests_total', `function="sentiment",status="200",version="${version}"`)) ?? 0;
    expect(await served(digestOf(2))).toBe(expectedCanary);
    expect(await served('local')).toBe(total - expectedCanary);
    // The same id meets the same version again.
    const again = ids.find((id) => routesToCanary(20, id, 0))!;
    await (await ask('I love this', again)).arrayBuffer();
    expect(await served(digestOf(2))).toBe(expectedCanary + 1);

    // Latency, errors and confidence compare the two versions.
    expect(await readSample('honnx_request_duration_seconds_count', `function="sentiment",version="${digestOf(2)}"`)).toBe(expectedCanary + 1);
    expect(await readSample('honnx_request_duration_seconds_count', 'function="sentiment",version="local"')).toBe(total - expectedCanary);
    expect(await readSample('honnx_answer_confidence_count', `function="sentiment",version="${digestOf(2)}"`)).toBeGreaterThanOrEqual(expectedCanary + 1);
    expect(await readSample('honnx_answer_confidence_count', 'function="sentiment",version="local"')).toBeGreaterThanOrEqual(total - expectedCanary);
    const tooLong = await ask('word '.repeat(5000), again);
    expect(tooLong.status).toBe(413);
    expect(await readSample('honnx_requests_total', `function="sentiment",status="413",version="${digestOf(2)}"`)).toBe(1);
    // A request refused before any version took it (malformed JSON) carries no version.
    await (await fetch(`${server.url}/sentiment`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })).arrayBuffer();
    expect(await readSample('honnx_requests_total', 'function="sentiment",status="400"')).toBe(1);
    expect(await readSample('honnx_model_version_info', `function="sentiment",version="${digestOf(2)}",role="canary"`)).toBe(1);
    expect(await readSample('honnx_canary_percent', `function="sentiment",version="${digestOf(2)}"`)).toBe(20);

    // Another share, same version: no reload. Activate and rollback wait for the canary to end.
    expect((await runFleet('canary', 'sentiment', 'v2', '50')).output).toContain('takes 50% of requests');
    const blocked = await runFleet('activate', 'sentiment', 'v4');
    expect(blocked.status).toBe(1);
    expect(blocked.errors).toContain(`a canary of ${digestOf(2)} takes 50% of requests; promote or abort it`);
    expect((await runFleet('abort', 'generate')).errors).toContain('function generate has no canary running');

    // Promote under constant load, then a canary of v4 started and aborted under load: every request answered 200.
    const statuses = await underLoad(async () => {
      const promoted = await runFleet('promote', 'sentiment');
      expect(promoted.output).toBe(`sentiment: local → ${digestOf(2)}`);
      expect(await versions()).toEqual({ active: digestOf(2), previous: 'local' });
      expect((await runFleet('canary', 'sentiment', 'v4', '50')).status).toBe(0);
      expect(await readSample('honnx_canary_percent', `function="sentiment",version="${digestOf(4)}"`)).toBe(50);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const aborted = await runFleet('abort', 'sentiment');
      expect(aborted.output).toBe(`sentiment: canary ${digestOf(4)} stopped; ${digestOf(2)} takes every request`);
    });
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(await versions()).toEqual({ active: digestOf(2), previous: 'local' });
    expect(await readSample('honnx_canary_percent', `function="sentiment",version="${digestOf(4)}"`)).toBe(0);
    expect(await readSample('honnx_model_version_info', `function="sentiment",version="${digestOf(4)}",role="canary"`)).toBe(0);
    expect(await readSample('honnx_model_version_info', `function="sentiment",version="${digestOf(2)}",role="active"`)).toBe(1);
    expect(server.fleet.hosts().get('sentiment')!.draining()).toBe(0);
  });

  it('spreads requests without an id evenly: exactly the share, in any window of 100', () => {
    for (const percent of [0, 1, 10, 33, 50, 99, 100]) {
      const chosen = Array.from({ length: 1000 }, (_, sequence) => routesToCanary(percent, undefined, sequence));
      for (let window = 0; window < 1000; window += 100) expect(chosen.slice(window, window + 100).filter(Boolean).length).toBe(percent);
    }
  });
});
