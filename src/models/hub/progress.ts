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

  /**
   * Bytes per second, or 0 until the samples span `minimumSpanMs`: the first chunks of a download arrive in a burst
   * (buffers, a resumed file), and a rate over a few milliseconds gave wild ETAs.
   */
  rate(minimumSpanMs = 1000): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const span = last.at - first.at;
    return span >= minimumSpanMs ? ((last.bytes - first.bytes) * 1000) / span : 0;
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

/** A file name cut to `width` characters from the left, so that its end (`…/model_int8.onnx`) stays readable. */
export function fitLabel(label: string, width: number): string {
  if (label.length <= width) return label;
  if (width <= 1) return '';
  return `…${label.slice(label.length - width + 1)}`;
}

// Back to the line's start and erase it, so that a shorter line leaves nothing of the longer one before it.
const CLEAR_LINE = '\r\x1b[2K';

/** The part of a progress reporter's output stream it reads: a terminal's width is absent on some (0 or undefined). */
export type ProgressStream = Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean; columns?: number };

/**
 * A progress bar on a terminal (one line rewritten in place, at most ten times a second), or one line per
 * finished file when the output is a log. Where the terminal gives no width, the line is written whole.
 */
export function createProgressReporter(stream: ProgressStream = process.stderr, now: () => number = () => performance.now()): PullReporter {
  const interactive = Boolean(stream.isTTY);
  const meter = new RateMeter(5000, now);
  const done = new Map<string, number>();
  const current = new Map<string, number>();
  let total: number | undefined;
  let lastDraw = 0;
  const heldNow = () => [...done.values(), ...current.values()].reduce((sum, bytes) => sum + bytes, 0);
  const draw = (label: string, force = false) => {
    const at = now();
    if (!interactive || (!force && at - lastDraw < 100)) return;
    lastDraw = at;
    const line = formatProgressLine(heldNow(), total, meter.rate(), '');
    const columns = stream.columns && stream.columns > 0 ? stream.columns : undefined;
    // Only the name gives way to a narrow terminal; the figures stay whole.
    const shown = columns === undefined ? label : fitLabel(label, columns - 1 - line.length);
    stream.write(`${CLEAR_LINE}${(line + shown).slice(0, columns === undefined ? undefined : columns - 1)}`);
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
      if (interactive) stream.write(`${CLEAR_LINE}pulled ${formatBytes(heldNow())}\n`);
    },
  };
}
