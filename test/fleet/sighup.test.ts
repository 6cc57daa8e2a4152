import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockModelFolder } from '../../src/models/lock/lock-folder.ts';
import { lockFilePath, writeLockFile } from '../../src/models/lock/lock-file.ts';
import { recordModelVersion } from '../../src/models/versions/model-versions.ts';
import { findFreePort } from '../build/artifact-processes.ts';
import { mirrorFolder } from '../support/shared-models.ts';

const MODEL = 'sentiment-sst2-mini';
const repositoryRoot = join(import.meta.dirname, '../..');
const digest = `sha256:${'2'.repeat(64)}`;
let root: string | undefined;
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  if (root) await rm(root, { recursive: true, force: true });
});

describe('SIGHUP on a running honnx serve', () => {
  it('swaps to the version the lock now pins, with no failed request during the swap', async () => {
    // A project of its own: a function file, a lock pinning the mirror's copy, and v2 pulled beside it.
    root = await mkdtemp(join(tmpdir(), 'honnx-sighup-'));
    await mkdir(join(root, 'functions'));
    await mkdir(join(root, 'models'));
    await writeFile(join(root, 'package.json'), '{"type": "module"}\n');
    await writeFile(
      join(root, 'functions', 'sentiment.ts'),
      `import { classifyEndpoint, defineFunction } from ${JSON.stringify(join(repositoryRoot, 'src/index.ts'))};\nexport default defineFunction({ task: classifyEndpoint, model: '${MODEL}' });\n`,
    );
    const cache = join(root, 'cache');
    const lockPath = lockFilePath(join(root, 'models'));
    await writeLockFile(lockPath, { lockfileVersion: 1, models: [await lockModelFolder(MODEL, join(mirrorFolder, MODEL), 'fp32', { type: 'folder', path: 'mirror' })] });
    const version2 = join(root, 'v2', MODEL);
    await cp(join(mirrorFolder, MODEL), version2, { recursive: true });
    const config = JSON.parse(await readFile(join(version2, 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(version2, 'config.json'), JSON.stringify({ ...config, honnx_version: 2 }));
    const entry2 = await lockModelFolder(MODEL, version2, 'fp32', { type: 'oci', registry: '127.0.0.1:1', repository: 'honnx/sentiment', tag: 'v2', digest });
    await recordModelVersion(cache, version2, entry2, digest, 'v2');

    const port = await findFreePort();
    const server = spawn(process.execPath, [join(repositoryRoot, 'bin/honnx.mjs'), 'serve', '--function', 'sentiment', '--workers', '0', '--host', '127.0.0.1', '--port', String(port)], {
      cwd: root,
      env: { ...process.env, HONNX_MIRROR: mirrorFolder, HONNX_CACHE: cache, HONNX_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = server;
    let output = '';
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const base = `http://127.0.0.1:${port}`;
    const until = async (check: () => Promise<boolean>, what: string) => {
      for (let attempt = 0; ; attempt++) {
        if (await check().catch(() => false)) return;
        if (attempt > 600 || server.exitCode !== null) throw new Error(`${what} did not happen:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await until(async () => (await fetch(`${base}/readyz`)).status === 200, 'readiness');
    const active = async () => ((await (await fetch(`${base}/sentiment`)).json()) as { version: { active: string } }).version.active;
    expect(await active()).toBe('local');

    let stop = false;
    const statuses: number[] = [];
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const response = await fetch(`${base}/sentiment`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":"I love this"}' });
        await response.arrayBuffer();
        statuses.push(response.status);
      }
    });
    try {
      await until(async () => statuses.length > 20, 'load before the signal');
      // The deployment: a new lock pinning v2 lands, then the process is told to re-read it.
      await writeLockFile(lockPath, { lockfileVersion: 1, models: [entry2] });
      const before = statuses.length;
      server.kill('SIGHUP');
      await until(async () => (await active()) === digest, 'the swap to v2');
      // The log line reaches this process through a pipe, so it may arrive after the answer that shows the swap.
      await until(async () => output.includes('"event":"model_activated"'), 'the model_activated log line');
      // Requests kept flowing: some were answered while the new version loaded and took over.
      await until(async () => statuses.length > before + 20, 'load after the swap');
    } finally {
      stop = true;
      await Promise.all(load);
    }
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect((await (await fetch(`${base}/sentiment`)).json()) as unknown).toMatchObject({ version: { active: digest, previous: 'local' } });

    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
