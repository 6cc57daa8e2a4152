import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fleetCommand } from '../../src/cli/fleet-commands.ts';
import { classifyEndpoint, defineFunction } from '../../src/index.ts';
import { readLockFile, writeLockFile } from '../../src/models/lock/lock-file.ts';
import { startNodeServer, type RunningServer } from '../../src/runtime/node/node-server.ts';
import { runModelsCommand } from '../models/run-models-command.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { startRegistry, type TestRegistry, findRegistrySkipReason } from '../support/start-registry.ts';

const registrySkipReason = findRegistrySkipReason();
if (registrySkipReason) console.warn(registrySkipReason);

const MODEL = 'sentiment-sst2-mini';
const ENVIRONMENT = ['HONNX_MIRROR', 'HONNX_CACHE', 'HONNX_ADMIN_KEYS', 'HONNX_ADMIN_KEY', 'HONNX_LOG_LEVEL'] as const;
const saved = Object.fromEntries(ENVIRONMENT.map((key) => [key, process.env[key]]));

let root: string;
let registry: TestRegistry;
let server: RunningServer | undefined;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'honnx-fleet-'));
  await mkdir(join(root, 'models'));
  registry = await startRegistry();
  process.env.HONNX_CACHE = join(root, 'cache');
  process.env.HONNX_MIRROR = mirrorFolder;
  process.env.HONNX_LOG_LEVEL = 'silent';
});
afterAll(async () => {
  await server?.close();
  await registry?.close();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await rm(root, { recursive: true, force: true });
});

async function runFleet(action: 'activate' | 'rollback', ...args: string[]) {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    const status = await fleetCommand(action, [...args, '--url', server!.url]);
    return { status, output: log.mock.calls.join('\n'), errors: error.mock.calls.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe.skipIf(registrySkipReason !== undefined)('updating a fleet: push, pull, activate, roll back, follow the lock', () => {
  it('swaps a running server between versions pulled from a registry, behind the admin key', async () => {
    const run = (...args: string[]) => runModelsCommand(root, args);
    const repository = `${registry.host}/fleet/sentiment`;
    expect((await run('push', MODEL, `${repository}:v1`, '--plain-http')).status).toBe(0);
    const version2 = join(root, 'build', MODEL);
    await cp(join(mirrorFolder, MODEL), version2, { recursive: true });
    const config = JSON.parse(await readFile(join(version2, 'config.json'), 'utf8'));
    await writeFile(join(version2, 'config.json'), JSON.stringify({ ...config, fleet_build: 2 }));
    expect((await run('push', version2, `${repository}:v2`, '--plain-http')).status).toBe(0);

    // The box: pull both (v2 last, then pin v1 in the lock, as a repository would), and serve with the mirror gone.
    process.env.HONNX_MIRROR = join(root, 'no-mirror');
    expect((await run('pull', `oci://${repository}:v2`, '--plain-http')).status).toBe(0);
    const lockPath = join(root, 'models', 'honnx.lock.json');
    const lockedV2 = await readLockFile(lockPath);
    expect((await run('pull', `oci://${repository}:v1`, '--plain-http', '--update-lock')).status).toBe(0);
    const lockedV1 = await readLockFile(lockPath);
    const digest = (lock: typeof lockedV1) => (lock.models[0].source.type === 'oci' ? lock.models[0].source.digest : '');

    process.env.HONNX_ADMIN_KEYS = 'admin-key-for-tests';
    server = await startNodeServer({ functions: [{ name: 'sentiment', fn: defineFunction({ task: classifyEndpoint, model: MODEL }) }], projectRoot: root, host: '127.0.0.1', port: 0, workers: 0 });
    await server.ready;
    const activeVersion = async () => ((await (await fetch(`${server!.url}/sentiment`)).json()) as { version: { active: string } }).version.active;
    expect(await activeVersion()).toBe(digest(lockedV1));

    const refused = await fetch(`${server.url}/admin/functions/sentiment/activate`, { method: 'POST', headers: { authorization: 'Bearer wrong' }, body: '{"version":"v2"}' });
    expect(refused.status).toBe(401);
    delete process.env.HONNX_ADMIN_KEY;
    expect((await runFleet('activate', 'sentiment', 'v2')).status).toBe(2);
    process.env.HONNX_ADMIN_KEY = 'admin-key-for-tests';
    const unknown = await runFleet('activate', 'sentiment', 'v9');
    expect(unknown.status).toBe(1);
    expect(unknown.errors).toContain('has no version "v9" on this machine');

    const activated = await runFleet('activate', 'sentiment', 'v2');
    expect(activated.errors).toBe('');
    expect(activated.output).toBe(`sentiment: ${digest(lockedV1)} → ${digest(lockedV2)}`);
    expect(await activeVersion()).toBe(digest(lockedV2));
    const answer = await fetch(`${server.url}/sentiment`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":"I love this"}' });
    expect(answer.status).toBe(200);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain(`honnx_model_version_info{function="sentiment",version="${digest(lockedV2)}",role="active"} 1`);
    expect(metrics).toContain(`honnx_model_version_info{function="sentiment",version="${digest(lockedV1)}",role="previous"} 1`);

    const rolledBack = await runFleet('rollback', 'sentiment');
    expect(rolledBack.output).toBe(`sentiment: ${digest(lockedV2)} → ${digest(lockedV1)}`);
    expect(await activeVersion()).toBe(digest(lockedV1));

    // What SIGHUP does: the lock now pins v2 (a commit to the repository, deployed), so the server swaps to it.
    await writeLockFile(lockPath, lockedV2);
    const reloaded = await server.fleet.reloadLock();
    expect(reloaded).toEqual([{ functionName: 'sentiment', report: expect.objectContaining({ version: digest(lockedV2) }) }]);
    expect(await activeVersion()).toBe(digest(lockedV2));
    expect(await server.fleet.reloadLock()).toEqual([]);
  });
});
