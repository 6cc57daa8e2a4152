import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/models/format-units.ts';
import { createProgressReporter, fitLabel, RateMeter, type ProgressStream } from '../../src/models/hub/progress.ts';

const LONG_NAME = 'onnx/some/deeply/nested/folder/of/the/repository/model_quantized_int8.onnx';

/** A pull of one 10 MB file in 1 MB steps, 200 ms apart, onto `stream`; the clock is the test's. */
function replayPull(stream: ProgressStream): void {
  let now = 0;
  const reporter = createProgressReporter(stream, () => now);
  reporter.begin({ name: 'org/model', commit: 'a'.repeat(40), files: [{ path: LONG_NAME, size: 10_000_000 }], heldBytes: 0 });
  for (let step = 1; step <= 10; step++) {
    now += 200;
    reporter.progress(LONG_NAME, step * 1_000_000);
  }
  reporter.fileDone({ path: LONG_NAME, size: 10_000_000, fetched: 10_000_000, resumedFrom: 0 });
  reporter.end();
}

function capture(options: { isTTY: boolean; columns?: number }): string[] {
  const writes: string[] = [];
  replayPull({ ...options, write: (chunk: string | Uint8Array) => writes.push(String(chunk)) > 0 });
  return writes;
}

describe('the pull progress bar', () => {
  it('on a pipe: one plain line per file, no carriage returns or escapes', () => {
    const output = capture({ isTTY: false }).join('');
    expect(output).toBe(`pulling org/model at aaaaaaaaaaaa: 1 files, 10.0 MB\n  ${LONG_NAME}  10.0 MB\n`);
  });

  it('on a terminal without a width: the name whole, each redraw clearing the line first', () => {
    const redraws = capture({ isTTY: true, columns: undefined }).slice(1, -1);
    expect(redraws.length).toBeGreaterThan(3);
    for (const line of redraws) {
      expect(line.startsWith('\r\x1b[2K')).toBe(true);
      expect(line.endsWith(LONG_NAME)).toBe(true);
    }
  });

  it('on a narrow terminal: the figures whole and the name cut from the left, within the width', () => {
    const redraws = capture({ isTTY: true, columns: 100 }).slice(1, -1);
    for (const line of redraws) {
      const shown = line.slice('\r\x1b[2K'.length);
      expect(shown.length).toBe(99);
      expect(shown).toMatch(/ETA (--|\d+s) {2}…[^ ]*\/model_quantized_int8\.onnx$/);
    }
    expect(fitLabel('abcdef', 4)).toBe('…def');
  });

  it('says no ETA until a second of transfer is measured, then a steady one', () => {
    const redraws = capture({ isTTY: true, columns: 200 }).slice(1, -1);
    // 200 ms apart: the first four redraws span under a second.
    expect(redraws.slice(0, 4).every((line) => line.includes('ETA --'))).toBe(true);
    // 1 MB per 200 ms is 5 MB/s: at 6 MB of 10, 0.8 s are left.
    expect(redraws[5]).toContain('5.00 MB/s  ETA 1s');
    const meter = new RateMeter(5000, () => 5);
    meter.record(0);
    meter.record(1_000_000);
    expect(meter.rate()).toBe(0);
  });

  it('never writes 60 in the seconds place', () => {
    expect(formatDuration(179.6)).toBe('3m00s');
    expect(formatDuration(59.5)).toBe('1m00s');
    expect(formatDuration(119.2)).toBe('2m00s');
    expect(formatDuration(3599.5)).toBe('1h00m');
  });

  it.skipIf(!existsSync('/usr/bin/script'))('on a real pseudo-terminal (util-linux script): lines cleared, names whole', () => {
    const program = join(import.meta.dirname, 'progress-on-terminal.ts');
    const run = spawnSync('/usr/bin/script', ['-qec', `${process.execPath} --import tsx ${program}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '' }, timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('is a terminal: true');
    expect(run.stdout).toContain('\x1b[2K');
    expect(run.stdout).toContain('model_quantized_int8.onnx');
    expect(run.stdout).not.toMatch(/\dm60s/);
  });
});
