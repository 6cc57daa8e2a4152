import { mkdtemp, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { digestBuildInputs } from '../../src/build/build-inputs.ts';
import { buildProject } from '../../src/build/build-project.ts';
import { listFunctionSources } from '../../src/build/function-sources.ts';
import { startWranglerDev, type RunningArtifact } from './artifact-processes.ts';

const projectRoot = join(import.meta.dirname, '../..');

describe('digestBuildInputs', () => {
  it('changes with the content of a function file or honnx source, and only then', async () => {
    const root = await mkdtemp(join(tmpdir(), 'honnx-digest-'));
    try {
      await mkdir(join(root, 'functions'));
      await mkdir(join(root, 'src/tasks'), { recursive: true });
      await writeFile(join(root, 'functions/a.ts'), 'export default 1;');
      await writeFile(join(root, 'src/tasks/b.ts'), 'export const b = 2;');
      const first = await digestBuildInputs(root, { delivery: undefined });
      expect(await digestBuildInputs(root, { delivery: undefined })).toBe(first);
      // Written again with the same bytes: a later modification time alone is no change.
      await writeFile(join(root, 'functions/a.ts'), 'export default 1;');
      expect(await digestBuildInputs(root, { delivery: undefined })).toBe(first);
      await writeFile(join(root, 'src/tasks/b.ts'), 'export const b = 3;');
      const edited = await digestBuildInputs(root, { delivery: undefined });
      expect(edited).not.toBe(first);
      await writeFile(join(root, 'functions/c.ts'), 'export default 3;');
      expect(await digestBuildInputs(root, { delivery: undefined })).not.toBe(edited);
      expect(await digestBuildInputs(root, { delivery: 'r2' })).not.toBe(await digestBuildInputs(root, { delivery: undefined }));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('honnx build --one-worker', () => {
  const outDir = join(projectRoot, '.cache/one-worker-build-test');
  afterAll(() => rm(outDir, { recursive: true, force: true }));

  it('leaves the worker as it is when nothing it is made from changed, and rebuilds when an option did', async () => {
    await rm(outDir, { recursive: true, force: true });
    const first = await buildProject({ projectRoot, only: ['generate'], oneWorker: outDir });
    expect(first.map((row) => [row.function, row.refusal, row.unchanged])).toEqual([['generate', undefined, undefined]]);
    const built = (await stat(join(outDir, 'worker.mjs'))).mtimeMs;

    const again = await buildProject({ projectRoot, only: ['generate'], oneWorker: outDir });
    expect(again).toEqual(first.map((row) => ({ ...row, unchanged: true })));
    expect((await stat(join(outDir, 'worker.mjs'))).mtimeMs).toBe(built);

    const otherDelivery = await buildProject({ projectRoot, only: ['generate'], oneWorker: outDir, delivery: 'assets' });
    expect(otherDelivery.map((row) => [row.delivery, row.unchanged])).toEqual([['assets', undefined]]);
  });
});

// The repository's own wrangler.toml: its [build] command runs once at start and once more when wrangler's watcher is
// ready (wrangler 4.86 does both); the worker must be built once.
describe('the root wrangler dev, offline', () => {
  let wrangler: RunningArtifact | undefined;
  afterAll(() => wrangler?.stop());

  it('builds the worker once: the run at start builds it, the watcher’s run finds it unchanged', async () => {
    // A record of an earlier build would make the first run "unchanged" too; this run must build.
    await rm(join(projectRoot, 'dist/dev-worker/.honnx-build.json'), { force: true });
    wrangler = await startWranglerDev(projectRoot, { timeoutMs: 240_000 });
    // The watcher's run starts when its file scan is ready; wait for its table, in which every row has a status.
    const runs = () => wrangler!.output().split('[custom build] Running:').slice(1);
    const rowsOf = (run: string) => [...run.matchAll(/^\[custom build\] (\S+)\s+workers\s.*\s(built|unchanged|REFUSED)$/gm)].map((match) => [match[1], match[2]]);
    const names = (await listFunctionSources(join(projectRoot, 'functions'))).map((fn) => fn.name);
    await vi.waitFor(() => expect(runs().map(rowsOf).map((rows) => rows.length)).toEqual([names.length, names.length]), { timeout: 120_000, interval: 200 });
    const [atStart, onWatch] = runs().map(rowsOf);
    expect(atStart).toEqual(names.map((name) => [name, 'built']));
    expect(onWatch).toEqual(names.map((name) => [name, 'unchanged']));
    expect((await fetch(`${wrangler.url}/healthz`)).status).toBe(200);
  });
});
