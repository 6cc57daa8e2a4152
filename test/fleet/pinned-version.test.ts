import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProject } from '../../src/build/build-project.ts';
import { buildCommand } from '../../src/cli/build-command.ts';
import { classifyEndpoint, defineFunction } from '../../src/index.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { lockModelFolder } from '../../src/models/lock/lock-folder.ts';
import { lockFilePath, writeLockFile, type LockFile } from '../../src/models/lock/lock-file.ts';
import { recordModelVersion } from '../../src/models/versions/model-versions.ts';
import { createNodeApp, PinnedVersionError } from '../../src/runtime/node/create-node-app.ts';
import { serveUntilSignalled, startNodeServer } from '../../src/runtime/node/node-server.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { startNodeArtifact } from '../build/artifact-processes.ts';

const MODEL = 'sentiment-sst2-mini';
const sanity = JSON.parse(readFileSync(join(mirrorFolder, MODEL, 'sanity.json'), 'utf8')) as { sentences: { text: string; node: { label: string } }[] };
const digestOf = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

let root: string;
let cache: string;
const searchPaths = () => ({ projectModels: join(root, 'models'), cache, mirror: mirrorFolder, hubEndpoint: 'http://127.0.0.1:1' });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'honnx-pin-'));
  cache = join(root, 'cache');
  await mkdir(join(root, 'models'));
  // v2 answers with its labels swapped, so that which version serves shows in every answer.
  const folder = join(root, 'v2', MODEL);
  await cp(join(mirrorFolder, MODEL), folder, { recursive: true });
  const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(folder, 'config.json'), JSON.stringify({ ...config, id2label: { 0: 'POSITIVE', 1: 'NEGATIVE' }, label2id: { POSITIVE: 0, NEGATIVE: 1 } }));
  const entry = await lockModelFolder(MODEL, folder, 'fp32', { type: 'oci', registry: '127.0.0.1:1', repository: 'honnx/sentiment', tag: 'v2', digest: digestOf(2) });
  await recordModelVersion(cache, folder, entry, digestOf(2), 'v2');
  // The lock pins the mirror's copy as v1 of the same repository.
  const locked = await lockModelFolder(MODEL, join(mirrorFolder, MODEL), 'fp32', { type: 'oci', registry: '127.0.0.1:1', repository: 'honnx/sentiment', tag: 'v1', digest: digestOf(1) });
  await writeLockFile(lockFilePath(join(root, 'models')), { lockfileVersion: 1, models: [locked] });
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A project under `root` with one function, `pinned`, on `model`, and the lock pinning v1 (the mirror's copy). */
async function writeProject(name: string, model: string): Promise<string> {
  const project = join(root, name);
  await mkdir(join(project, 'functions'), { recursive: true });
  await cp(join(root, 'models'), join(project, 'models'), { recursive: true });
  await writeFile(join(project, 'package.json'), '{"type": "module"}\n');
  await writeFile(
    join(project, 'functions', 'pinned.ts'),
    `import { classifyEndpoint, defineFunction } from ${JSON.stringify(join(import.meta.dirname, '../../src/index.ts'))};\nexport default defineFunction({ task: classifyEndpoint, model: '${model}' });\n`,
  );
  return project;
}

/** Runs a build with this test's version store as HONNX_CACHE and the shared mirror, as `honnx build` would read them. */
async function withBuildEnvironment<T>(build: () => Promise<T>): Promise<T> {
  const saved = { cache: process.env.HONNX_CACHE, mirror: process.env.HONNX_MIRROR };
  process.env.HONNX_CACHE = cache;
  process.env.HONNX_MIRROR = mirrorFolder;
  try {
    return await build();
  } finally {
    if (saved.cache === undefined) delete process.env.HONNX_CACHE;
    else process.env.HONNX_CACHE = saved.cache;
    if (saved.mirror === undefined) delete process.env.HONNX_MIRROR;
    else process.env.HONNX_MIRROR = saved.mirror;
  }
}

/** Serves one pinned function in this process; what GET /sentiment says of its version, and its top label for a text. */
async function servePinned(model: string) {
  const app = createNodeApp({
    functions: [{ name: 'sentiment', fn: defineFunction({ task: classifyEndpoint, model }) }],
    engine: createNodeEngine({ threads: 1 }),
    searchPaths: searchPaths(),
  });
  try {
    await app.ready();
    const version = ((await (await app.app.fetch(new Request('http://honnx/sentiment'))).json()) as { version: { active: string } }).version.active;
    const answer = await app.app.fetch(new Request('http://honnx/sentiment', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: sanity.sentences[0].text }) }));
    const label = ((await answer.json()) as { label: string }[][])[0][0].label;
    return { version, label, reloaded: await app.fleet.reloadLock() };
  } finally {
    await app.release();
  }
}

describe("a function's model reference pins a version", () => {
  const right = sanity.sentences[0].node.label;
  const swapped = right === 'POSITIVE' ? 'NEGATIVE' : 'POSITIVE';

  it('serves the pinned version from the version store, by tag or digest prefix, and SIGHUP never moves it', async () => {
    for (const pin of ['v2', digestOf(2), '222222222222']) {
      const served = await servePinned(`${MODEL}@${pin}`);
      expect(served, pin).toMatchObject({ version: digestOf(2), label: swapped });
      // The lock pins v1, but the function's own pin wins: re-reading the lock swaps nothing.
      expect(served.reloaded).toEqual([]);
    }
  });

  it('a pin naming what the lock pins serves the locked copy', async () => {
    expect(await servePinned(`${MODEL}@v1`)).toMatchObject({ version: digestOf(1), label: right });
    expect(await servePinned(MODEL)).toMatchObject({ version: digestOf(1), label: right });
  });

  it('refuses to start when the pinned version is not on this machine, saying what is', async () => {
    const start = () =>
      createNodeApp({ functions: [{ name: 'sentiment', fn: defineFunction({ task: classifyEndpoint, model: `${MODEL}@v9` }) }], engine: createNodeEngine({ threads: 1 }), searchPaths: searchPaths() });
    expect(start).toThrow(PinnedVersionError);
    expect(start).toThrow(`function sentiment pins model ${MODEL} (fp32) at version "v9", which this machine does not hold: the lock file pins ${digestOf(1)}, and the version store`);
    expect(start).toThrow(`has ${digestOf(2)} (v2). Pull it`);

    // honnx serve prints it and exits 1 before serving anything.
    const saved = { cache: process.env.HONNX_CACHE, mirror: process.env.HONNX_MIRROR, level: process.env.HONNX_LOG_LEVEL };
    process.env.HONNX_LOG_LEVEL = 'silent';
    process.env.HONNX_CACHE = cache;
    process.env.HONNX_MIRROR = mirrorFolder;
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const status = await serveUntilSignalled(() =>
        startNodeServer({ functions: [{ name: 'sentiment', fn: defineFunction({ task: classifyEndpoint, model: `${MODEL}@v9` }) }], projectRoot: root, host: '127.0.0.1', port: 0, workers: 0 }),
      );
      expect(status).toBe(1);
      expect(error.mock.calls.join('\n')).toContain('pins model sentiment-sst2-mini (fp32) at version "v9"');
    } finally {
      error.mockRestore();
      if (saved.cache === undefined) delete process.env.HONNX_CACHE;
      else process.env.HONNX_CACHE = saved.cache;
      process.env.HONNX_MIRROR = saved.mirror;
      if (saved.level === undefined) delete process.env.HONNX_LOG_LEVEL;
      else process.env.HONNX_LOG_LEVEL = saved.level;
    }
  });

  it('honnx build ships the pinned version, not the locked one, on both targets, and the node artifact serves it', async () => {
    const project = await writeProject('build-pinned', `${MODEL}@v2`);
    const rows = await withBuildEnvironment(() => buildProject({ projectRoot: project }));
    expect(rows.map((row) => [row.target, row.refusal])).toEqual([
      ['workers', undefined],
      ['node', undefined],
    ]);
    const v2Config = await readFile(join(root, 'v2', MODEL, 'config.json'), 'utf8');
    expect(v2Config).not.toBe(await readFile(join(mirrorFolder, MODEL, 'config.json'), 'utf8'));

    // Workers: v2's files in the worker, and its manifest digest in [vars], so the uploaded version names v2.
    const worker = join(project, 'dist/workers/pinned');
    expect(await readFile(join(worker, 'model', MODEL, 'config.json'), 'utf8')).toBe(v2Config);
    expect(await readFile(join(worker, 'wrangler.toml'), 'utf8')).toContain(`HONNX_MODEL_DIGEST_PINNED = "${digestOf(2)}"`);

    // Node: v2's files in the artifact (a version always travels with it) and its entry as the artifact's lock.
    const artifact = join(project, 'dist/node/pinned');
    expect(await readFile(join(artifact, 'models', MODEL, 'config.json'), 'utf8')).toBe(v2Config);
    const artifactLock = JSON.parse(await readFile(lockFilePath(join(artifact, 'models')), 'utf8')) as LockFile;
    expect(artifactLock.models.map((entry) => entry.source)).toEqual([{ type: 'oci', registry: '127.0.0.1:1', repository: 'honnx/sentiment', tag: 'v2', digest: digestOf(2) }]);
    await mkdir(join(artifact, 'node_modules'));
    await symlink(join(import.meta.dirname, '../../node_modules/onnxruntime-node'), join(artifact, 'node_modules/onnxruntime-node'));
    const served = await startNodeArtifact(artifact, { env: { HONNX_CACHE: join(project, 'empty-cache'), HONNX_MIRROR: '' } });
    try {
      const described = (await (await fetch(`${served.url}/pinned`)).json()) as { version: { active: string } };
      expect(described.version.active).toBe(digestOf(2));
      const answer = await fetch(`${served.url}/pinned`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: sanity.sentences[0].text }) });
      expect(((await answer.json()) as { label: string }[][])[0][0].label).toBe(swapped);
    } finally {
      await served.stop();
    }
  }, 180_000);

  it('honnx build refuses a pin this machine does not hold, with the command that fetches it, and writes nothing', async () => {
    const project = await writeProject('build-missing-pin', `${MODEL}@v9`);
    const build = withBuildEnvironment(() => buildProject({ projectRoot: project, targets: ['node'] }));
    await expect(build).rejects.toThrow(PinnedVersionError);
    await expect(build).rejects.toThrow(`function pinned pins model ${MODEL} (fp32) at version "v9", which this machine does not hold`);
    await expect(build).rejects.toThrow('Pull it (honnx models pull oci://<registry>/<repository>:v9 --update-lock');
    expect(existsSync(join(project, 'dist'))).toBe(false);
    // honnx build prints it and exits 1, with no stack trace.
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await withBuildEnvironment(() => buildCommand(['--target', 'node'], project))).toBe(1);
      expect(printed.mock.calls.join('\n')).toContain('honnx build cannot find every version it names:\n\nfunction pinned pins model');
    } finally {
      printed.mockRestore();
    }
  });

  it('defineFunction splits name@version, and refuses a malformed version', () => {
    expect(defineFunction({ task: classifyEndpoint, model: `${MODEL}@${digestOf(2)}` }).definition).toMatchObject({ model: MODEL, modelVersion: digestOf(2) });
    expect(defineFunction({ task: classifyEndpoint, model: 'Xenova/bert@0123456789abcdef' }).definition).toMatchObject({ model: 'Xenova/bert', modelVersion: '0123456789abcdef' });
    expect(() => defineFunction({ task: classifyEndpoint, model: `${MODEL}@` })).toThrow('is not "name@version"');
    expect(() => defineFunction({ task: classifyEndpoint, model: `${MODEL}@a b` })).toThrow(TypeError);
  });
});
