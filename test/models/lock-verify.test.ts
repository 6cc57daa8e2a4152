import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { generateEndpoint } from '../../src/endpoints/generate-endpoint.ts';
import { readLockFile, readLockFileSync } from '../../src/models/lock/lock-file.ts';
import { ModelVerificationError } from '../../src/models/lock/verify-model.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { runModelsCommand } from './run-models-command.ts';

const MODEL = 'tinystories-260k';
const GRAPH = 'onnx/model.onnx';
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

let root: string;
let modelFolder: string;
const savedEnvironment = { HONNX_MIRROR: process.env.HONNX_MIRROR, HONNX_CACHE: process.env.HONNX_CACHE };

const runModels = (...args: string[]) => runModelsCommand(root, args);

/** An engine that counts the sessions it creates, to show that a refused model never reaches ONNX Runtime. */
function countingEngine(): Engine & { sessions: number } {
  const engine = createNodeEngine({ threads: 1 });
  const counting = { ...engine, sessions: 0, createSession: (...args: Parameters<Engine['createSession']>) => ((counting.sessions += 1), engine.createSession(...args)) };
  return counting;
}

function startApp(engine: Engine) {
  const fn = defineFunction({ task: generateEndpoint, model: MODEL });
  return createNodeApp({ functions: [{ name: 'generate', fn }], engine, searchPaths: readModelSearchPaths(root, process.env) });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'honnx-lock-'));
  process.env.HONNX_MIRROR = join(root, 'mirror');
  process.env.HONNX_CACHE = join(root, 'cache');
  await mkdir(join(root, 'models'));
});
afterAll(async () => {
  for (const [key, value] of Object.entries(savedEnvironment)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await rm(root, { recursive: true, force: true });
});
beforeEach(async () => {
  // A fresh, unmodified copy of the model in the project's mirror folder for every test.
  modelFolder = join(root, 'mirror', MODEL);
  await rm(modelFolder, { recursive: true, force: true });
  await cp(join(mirrorFolder, MODEL), modelFolder, { recursive: true });
  await rm(join(root, 'models', 'honnx.lock.json'), { force: true });
});

describe('lock entries and verification', () => {
  it('locks the files a task needs with their size and sha256, and verifies them', async () => {
    const locked = await runModels('lock', MODEL);
    expect(locked.status).toBe(0);
    const lock = await readLockFile(join(root, 'models', 'honnx.lock.json'));
    expect(lock.models).toHaveLength(1);
    const [entry] = lock.models;
    expect(entry).toMatchObject({ name: MODEL, variant: 'fp32', source: { type: 'folder', path: `mirror/${MODEL}` } });
    expect(entry.files.map((file) => file.path)).toEqual(['config.json', 'generation_config.json', GRAPH, 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
    for (const file of entry.files) expect(file.sha256).toBe(sha256(join(modelFolder, file.path)));
    expect(entry.files.find((file) => file.path === GRAPH)!.size).toBe(1_265_527);

    const verified = await runModels('verify');
    expect(verified.status).toBe(0);
    expect(verified.output).toContain(`✓ ${MODEL} (fp32): 6 files match`);
  });

  it('exits 1 from verify when a byte changed, naming the file and the sha256 expected', async () => {
    await runModels('lock', MODEL);
    const expected = sha256(join(modelFolder, GRAPH));
    const bytes = readFileSync(join(modelFolder, GRAPH));
    bytes[1000] ^= 0x01;
    await writeFile(join(modelFolder, GRAPH), bytes);
    const verified = await runModels('verify');
    expect(verified.status).toBe(1);
    expect(verified.errors).toContain(`${GRAPH}: sha256 ${sha256(join(modelFolder, GRAPH))}, expected ${expected}`);
  });

  it('reports a missing file and a file of another size', async () => {
    await runModels('lock', MODEL);
    await rm(join(modelFolder, 'tokenizer.json'));
    await writeFile(join(modelFolder, 'generation_config.json'), '{}');
    const verified = await runModels('verify', MODEL);
    expect(verified.status).toBe(1);
    expect(verified.errors).toContain('tokenizer.json: missing (expected 10,614 bytes');
    expect(verified.errors).toMatch(/generation_config\.json: 2 bytes, expected 180 bytes/);
  });

  it('refuses to create a session from a model that differs from its lock entry', async () => {
    await runModels('lock', MODEL);
    const expected = sha256(join(modelFolder, GRAPH));
    const bytes = readFileSync(join(modelFolder, GRAPH));
    bytes[bytes.byteLength - 10] ^= 0x80;
    await writeFile(join(modelFolder, GRAPH), bytes);
    const engine = countingEngine();
    const { ready, hosts } = startApp(engine);
    const failure = await ready().then(
      () => undefined,
      (error: unknown) => error,
    );
    // The host names the function; the cause is the verification error itself.
    expect((failure as Error).cause).toBeInstanceOf(ModelVerificationError);
    const message = (failure as Error).message;
    expect(message).toContain(`function generate could not load model ${MODEL}`);
    expect(message).toContain(`model "${MODEL}" (fp32) in ${modelFolder} does not match its lock entry`);
    expect(message).toContain(`${GRAPH}: sha256 ${sha256(join(modelFolder, GRAPH))}, expected ${expected}`);
    expect(message).toContain('refusing to serve it');
    expect(hosts[0].state()).toBe('failed');
    expect(hosts[0].failure()).toContain(expected);
    expect(engine.sessions).toBe(0);
  });

  it('serves a model that matches its lock entry', async () => {
    await runModels('lock', MODEL);
    const engine = countingEngine();
    const { ready } = startApp(engine);
    await ready();
    expect(engine.sessions).toBeGreaterThan(0);
  });

  it('names the lock file and the entry when the lock file is malformed', async () => {
    const path = join(root, 'models', 'honnx.lock.json');
    await writeFile(path, JSON.stringify({ lockfileVersion: 1, models: [{ name: MODEL, variant: 'fp32', source: { type: 'folder', path: 'x' }, files: [{ path: GRAPH, size: 1, sha256: 'abc' }] }] }));
    expect(() => readLockFileSync(path)).toThrow(`${path} is not a valid honnx lock file: models[0] (${MODEL}) has a file entry without path, size and a 64-hex-digit sha256`);
    await writeFile(path, '{ not json');
    expect(() => readLockFileSync(path)).toThrow(`${path} is not a valid honnx lock file`);
  });
});
