import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLockMismatches } from '../../src/models/lock/verify-model.ts';
import { readLockFile } from '../../src/models/lock/lock-file.ts';
import { startMirrorServer, type RunningMirror } from '../../src/models/mirror/mirror-server.ts';
import { listModelVersions } from '../../src/models/versions/model-versions.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { runModelsCommand, useBoxWithoutMirror } from './run-models-command.ts';

const MODEL = 'tinystories-260k';

let root: string;
let locked: RunningMirror;
let newer: RunningMirror;
let newerConfig: string;
let restoreEnvironment: () => void;
const run = (...args: string[]) => runModelsCommand(root, args);
const lockPath = () => join(root, 'models', 'honnx.lock.json');

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'honnx-no-lock-'));
  await mkdir(join(root, 'models'));
  // Two hubs: the shared mirror (the version the project locks) and a copy whose config.json differs (a newer commit).
  await cp(join(mirrorFolder, MODEL), join(root, 'newer-hub', MODEL), { recursive: true });
  const config = JSON.parse(await readFile(join(mirrorFolder, MODEL, 'config.json'), 'utf8')) as Record<string, unknown>;
  newerConfig = JSON.stringify({ ...config, honnx_test_revision: 2 });
  await writeFile(join(root, 'newer-hub', MODEL, 'config.json'), newerConfig);
  locked = await startMirrorServer({ folder: mirrorFolder, port: 0 });
  newer = await startMirrorServer({ folder: join(root, 'newer-hub'), port: 0 });
  restoreEnvironment = useBoxWithoutMirror(root, locked.url);
});
afterAll(async () => {
  restoreEnvironment();
  await locked.close();
  await newer.close();
  await rm(root, { recursive: true, force: true });
});

describe('honnx models pull --no-lock', () => {
  it('never replaces the files the lock points at: another version goes into the version store beside them', async () => {
    expect((await run('pull', MODEL)).status).toBe(0);
    const lockText = await readFile(lockPath(), 'utf8');
    const [entry] = (await readLockFile(lockPath())).models;
    const installed = join(root, 'cache', MODEL);

    const pulled = await run('pull', MODEL, '--no-lock', '--endpoint', newer.url);
    expect(pulled.errors).toBe('');
    expect(pulled.status).toBe(0);
    expect(pulled.output).toContain('this pull is not locked, so it was kept in the version store');
    expect(pulled.output).toContain('not locked (--no-lock)');

    // The locked copy is untouched (a box restarting now serves what it locked), and the lock file too.
    expect(await findLockMismatches(installed, entry)).toEqual([]);
    expect(await readFile(lockPath(), 'utf8')).toBe(lockText);
    expect((await run('verify')).status).toBe(0);

    // The unlocked version is in the version store, whole, for honnx models activate or canary.
    const versions = await listModelVersions(join(root, 'cache'), MODEL);
    const other = versions.find((version) => version.digest !== (entry.source.type === 'hub' ? entry.source.commit : ''));
    expect(other).toBeDefined();
    expect(pulled.output).toContain(other!.folder);
    expect(await readFile(join(other!.folder, 'config.json'), 'utf8')).toBe(newerConfig);
    expect(await findLockMismatches(other!.folder, other!.entry)).toEqual([]);
    expect(other!.entry.files.map((file) => file.path).sort()).toEqual(entry.files.map((file) => file.path).sort());
  });

  it('with nothing locked for the model, installs it in the cache as before', async () => {
    await rm(lockPath());
    const pulled = await run('pull', MODEL, '--no-lock', '--endpoint', newer.url);
    expect(pulled.status).toBe(0);
    expect(await readFile(join(root, 'cache', MODEL, 'config.json'), 'utf8')).toBe(newerConfig);
  });
});
