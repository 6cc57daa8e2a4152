import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProgressLine, RateMeter } from '../../src/models/hub/progress.ts';
import { readLockFile } from '../../src/models/lock/lock-file.ts';
import { startMirrorServer, type RunningMirror } from '../../src/models/mirror/mirror-server.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { runModelsCommand, useBoxWithoutMirror } from './run-models-command.ts';

const MODEL = 'tinystories-260k';

let root: string;
let mirror: RunningMirror;
let restoreEnvironment: () => void;

const run = (...args: string[]) => runModelsCommand(root, args);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'honnx-cli-'));
  await mkdir(join(root, 'models'));
  mirror = await startMirrorServer({ folder: mirrorFolder, port: 0 });
  // The box under test has no mirror folder of its own: models come from the cache, filled over HTTP.
  restoreEnvironment = useBoxWithoutMirror(root, mirror.url);
});
afterAll(async () => {
  restoreEnvironment();
  await mirror.close();
  await rm(root, { recursive: true, force: true });
});

describe('honnx models, end to end', () => {
  it('pulls from HF_ENDPOINT, locks, lists, verifies, inspects by name and quantizes', async () => {
    const pulled = await run('pull', MODEL);
    expect(pulled.status).toBe(0);
    expect(pulled.output).toContain(`${MODEL} (fp32) → ${join(root, 'cache', MODEL)}`);
    const lock = await readLockFile(join(root, 'models', 'honnx.lock.json'));
    expect(lock.models[0]).toMatchObject({ name: MODEL, source: { type: 'hub', repo: MODEL, revision: 'main' } });

    const listed = await run('ls');
    expect(listed.status).toBe(0);
    expect(listed.output).toMatch(new RegExp(`${MODEL}\\s+fp32\\s+1\\.28 MB\\s+hub ${MODEL}@main`));
    expect(listed.output).toContain(`cache ${join('cache', MODEL)}`);

    expect((await run('verify')).status).toBe(0);

    const inspected = await run('inspect', MODEL);
    expect(inspected.status).toBe(0);
    expect(inspected.output).toContain('task: generate');

    const out = join(root, 'quantized');
    const quantized = await run('quantize', join(root, 'cache', MODEL), out, '--int8');
    expect(quantized.status).toBe(0);
    expect(quantized.output).toMatch(/size: 1\.27 MB → [\d.]+ kB/);
    expect(quantized.output).toMatch(/changed \(\d+\):/);
    expect(quantized.output).toContain('left alone (');
    expect(existsSync(join(out, 'onnx', 'model_int8.onnx'))).toBe(true);
    expect(existsSync(join(out, 'tokenizer.json'))).toBe(true);
  });

  it('restores every locked model on a fresh box with a bare "pull"', async () => {
    await rm(join(root, 'cache'), { recursive: true, force: true });
    expect((await run('verify')).status).toBe(1);
    const restored = await run('pull');
    expect(restored.status).toBe(0);
    expect(restored.output).toContain(`${MODEL} (fp32) → ${join(root, 'cache', MODEL)}`);
    expect((await run('verify')).status).toBe(0);
    // Nothing left to fetch now.
    expect((await run('pull')).output).toContain(`${MODEL} (fp32): present in`);
  });

  it('answers usage mistakes with status 2 and failures with status 1', async () => {
    expect((await run('quantize', 'a.onnx', 'b.onnx')).status).toBe(2);
    expect((await run('pull', MODEL, '--variant', 'int5')).status).toBe(2);
    expect((await run('frobnicate')).status).toBe(2);
    const missing = await run('pull', 'nobody/nothing');
    expect(missing.status).toBe(1);
    expect(missing.errors).toContain('repository nobody/nothing was not found');
  });
});

describe('the progress line', () => {
  it('shows bytes, rate and time left', () => {
    expect(formatProgressLine(2_500_000, 10_000_000, 1_250_000, 'onnx/model.onnx', 10)).toBe('[###.......]  25% 2.50 MB / 10.0 MB  1.25 MB/s  ETA 6s  onnx/model.onnx');
    expect(formatProgressLine(1000, undefined, 0, 'x')).toBe('[downloading] 1.00 kB  --/s  ETA --  x');
  });

  it('measures the rate over a sliding window', () => {
    let now = 0;
    const meter = new RateMeter(5000, () => now);
    meter.record(0);
    now = 1000;
    meter.record(2_000_000);
    expect(meter.rate()).toBe(2_000_000);
    now = 10_000;
    meter.record(2_500_000);
    // Only the last few seconds count once the window has passed.
    expect(meter.rate()).toBeCloseTo(500_000 / 9, 0);
  });
});
