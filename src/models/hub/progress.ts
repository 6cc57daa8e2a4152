import { formatBytes, formatDuration } from '../format-units.ts';

/** What a pull tells its onlooker, file by file. */
export interface PullReporter {
  begin(plan: { name: string; commit: string; files: readonly { path: string; size?: number }[]; heldBytes: number }): void;
  /** Bytes of `path` held so far, resumed ones included. */
  progress(path: string, held: number): void;
  fileDone(file: { path: string; size: number; fetched: number; resumedFrom: number }): void;
  end(): void;
}

export const silentReporter: PullReporter = { begin() {}, progress() {}, fileDone() {}, end() {} };

interface Sample {
  at: number;
  bytes: number;
}

/** Transfer rate over the last few seconds, so that the ETA follows the network as it is now. */
export class RateMeter {
  private readonly samples: Sample[] = [];

  constructor(
    private readonly windowMs = 5000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  record(totalBytes: number): void {
    const at = this.now();
    this.samples.push({ at, bytes: totalBytes });
    while (this.samples.length > 2 && at - this.samples[0].at > this.windowMs) this.samples.shift();
  }

  /** Bytes per second, or 0 before two samples. */
  rate(): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    return seconds > 0 ? (last.bytes - first.bytes) / seconds : 0;
  }
}

export function formatProgressLine(held: number, total: number | undefined, bytesPerSecond: number, label: string, width = 24): string {
  const known = total !== undefined && total > 0;
  const fraction = known ? Math.min(1, held / total) : 0;
  const filled = Math.round(fraction * width);
  const bar = known ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%` : '[downloading]';
  const amount = known ? `${formatBytes(held)} / ${formatBytes(total)}` : formatBytes(held);
  const rate = bytesPerSecond > 0 ? `${formatBytes(Math.round(bytesPerSecond))}/s` : '--/s';
  const eta = known && bytesPerSecond > 0 ? formatDuration((total - held) / bytesPerSecond) : '--';
  return `${bar} ${amount}  ${rate}  ETA ${eta}  ${label}`;
}

/**
 * A progress bar on a terminal (one line rewritten in place, at most ten times a second), or one line per
 * finished file when the output is a log.
 */
export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): PullReporter {
  const interactive = Boolean(stream.isTTY);
  const meter = new RateMeter();
  const done = new Map<string, number>();
  const current = new Map<string, number>();
  let total: number | undefined;
  let lastDraw = 0;
  const heldNow = () => [...done.values(), ...current.values()].reduce((sum, bytes) => sum + bytes, 0);
  const draw = (label: string, force = false) => {
    const now = performance.now();
    if (!interactive || (!force && now - lastDraw < 100)) return;
    lastDraw = now;
    const columns = stream.columns ?? 100;
    stream.write(`\r${formatProgressLine(heldNow(), total, meter.rate(), label).slice(0, columns - 1).padEnd(columns - 1)}`);
  };
  return {
    begin(plan) {
      total = plan.files.every((file) => file.size !== undefined) ? plan.files.reduce((sum, file) => sum + (file.size ?? 0), 0) : undefined;
      stream.write(`pulling ${plan.name} at ${plan.commit.slice(0, 12)}: ${plan.files.length} files${total === undefined ? '' : `, ${formatBytes(total)}`}\n`);
    },
    progress(path, held) {
      current.set(path, held);
      meter.record(heldNow());
      draw(path);
    },
    fileDone(file) {
      current.delete(file.path);
      done.set(file.path, file.size);
      meter.record(heldNow());
      if (interactive) draw(file.path, true);
      else {
        const resumed = file.resumedFrom > 0 ? `, resumed from ${formatBytes(file.resumedFrom)}` : '';
        stream.write(`  ${file.path}  ${formatBytes(file.size)}${file.fetched === 0 ? ' (already here)' : resumed}\n`);
      }
    },
    end() {
      if (interactive) stream.write('\n');
    },
  };
}
