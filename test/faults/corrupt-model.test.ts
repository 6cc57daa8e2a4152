import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { generateEndpoint } from '../../src/endpoints/generate-endpoint.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { mirrorFolder } from '../support/shared-models.ts';

const projectRoot = join(import.meta.dirname, '../..');
const MODEL = 'tinystories-260k';
const MODEL_FILE = 'onnx/model.onnx';
const temporaryFolders: string[] = [];

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function listFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((path) => statSync(join(folder, path)).isFile());
}

/**
 * A project outside the repository with its own mirror holding a copy of the model, whose model file `damage`
 * rewrites; with `lock`, models/honnx.lock.json records the undamaged files, hashed here from the shared original.
 */
function createDamagedProject(damage: (bytes: Buffer) => Buffer, lock: boolean) {
  const root = mkdtempSync(join(tmpdir(), 'honnx-fault-'));
  temporaryFolders.push(root);
  const mirror = join(root, 'mirror');
  const original = join(mirrorFolder, MODEL);
  cpSync(original, join(mirror, MODEL), { recursive: true });
  // The shared mirror is read-only, and so are the copies of its files.
  for (const path of listFiles(join(mirror, MODEL))) chmodSync(join(mirror, MODEL, path), 0o644);
  const modelPath = join(mirror, MODEL, MODEL_FILE);
  const pristine = readFileSync(join(original, MODEL_FILE));
  writeFileSync(modelPath, damage(Buffer.from(pristine)));
  mkdirSync(join(root, 'models'));
  if (lock) {
    const files = listFiles(original).map((path) => {
      const bytes = readFileSync(join(original, path));
      return { path: relative(original, join(original, path)).split('\\').join('/'), size: bytes.byteLength, sha256: sha256(bytes) };
    });
    const entry = { name: MODEL, variant: 'fp32', source: { type: 'folder', path: original }, files };
    writeFileSync(join(root, 'models/honnx.lock.json'), JSON.stringify({ lockfileVersion: 1, models: [entry] }));
  }
  return { root, mirror, modelPath, expectedSha256: sha256(pristine) };
}

const flipOneByte = (bytes: Buffer) => {
  const middle = Math.floor(bytes.byteLength / 2);
  bytes[middle] ^= 0xff;
  return bytes;
};
const truncate = (bytes: Buffer) => bytes.subarray(0, Math.floor(bytes.byteLength / 3));

afterAll(() => temporaryFolders.forEach((folder) => rmSync(folder, { recursive: true, force: true })));

const story = defineFunction({ task: generateEndpoint, model: MODEL, parameters: { max_new_tokens: 4 } });

describe('a model file corrupted on disk', () => {
  it('with a lock entry: start-up fails naming the file and the sha256 expected, and the function never serves', async () => {
    const project = createDamagedProject(flipOneByte, true);
    const searchPaths = readModelSearchPaths(project.root, { HONNX_MIRROR: project.mirror, HONNX_CACHE: join(project.root, 'cache') });
    const { app, ready } = createNodeApp({ functions: [{ name: 'story', fn: story }], engine: createNodeEngine({ threads: 1 }), searchPaths });
    const failure = await ready().then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure!.message).toContain(MODEL_FILE);
    expect(failure!.message).toContain(project.expectedSha256);
    expect(failure!.message).toContain(MODEL);

    const response = await app.fetch(new Request('http://honnx.test/story', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":"Once"}' }));
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(project.expectedSha256);
    expect((await app.fetch(new Request('http://honnx.test/readyz'))).status).toBe(503);
  });

  it('without a lock entry, a truncated ONNX file: `honnx serve` exits non-zero naming the model and the file', async () => {
    const project = createDamagedProject(truncate, false);
    mkdirSync(join(project.root, 'functions'));
    // A project of ES modules, as a honnx project's package.json declares.
    writeFileSync(join(project.root, 'package.json'), '{"type": "module"}\n');
    const indexPath = join(projectRoot, 'src/index.ts');
    writeFileSync(
      join(project.root, 'functions/story.ts'),
      `import { defineFunction, generateEndpoint } from ${JSON.stringify(indexPath)};\nexport default defineFunction({ task: generateEndpoint, model: ${JSON.stringify(MODEL)} });\n`,
    );
    const child = spawn(process.execPath, [join(projectRoot, 'bin/honnx.mjs'), 'serve', '--port', '0', '--host', '127.0.0.1', '--workers', '0'], {
      cwd: project.root,
      env: { ...process.env, HONNX_MIRROR: project.mirror, HONNX_CACHE: join(project.root, 'cache'), HONNX_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));

    expect(code, stdout + stderr).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stderr).toContain(MODEL);
    expect(stderr).toMatch(/model\.onnx/);
    // It never said it was ready: nothing served half-working.
    expect(stdout).not.toMatch(/"event":"ready"/);
  }, 60_000);
});
