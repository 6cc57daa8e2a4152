import { formatBytes } from '../models/format-units.ts';
import type { BuildRow } from './build-project.ts';

/** A function's cell: which version of a declared canary the row is (its own worker, or both in one artifact). */
function describeFunction(row: BuildRow): string {
  if (!row.canary) return row.function;
  if (row.canary.worker === 'active') return `${row.function} (active)`;
  return row.canary.worker === 'canary' ? `${row.function} (canary ${row.canary.percent}%)` : `${row.function} (+ canary ${row.canary.percent}%)`;
}

/** The table `honnx build` prints: one row per function and target. */
export function formatBuildTable(rows: readonly BuildRow[]): string {
  const header = ['function', 'target', 'bundle (gzip)', 'upload', 'model', 'est. peak memory / limit', 'model from', 'status'];
  const body = rows.map((row) => [
    describeFunction(row),
    row.target,
    row.refusal ? '-' : `${formatBytes(row.bundleBytes)} (${formatBytes(row.bundleGzipBytes)})`,
    row.uploadBytes && !row.refusal ? formatBytes(row.uploadBytes) : '-',
    formatBytes(row.modelBytes),
    `${formatBytes(row.memoryBytes)} / ${formatBytes(row.memoryLimitBytes)} (${Math.round((100 * row.memoryBytes) / row.memoryLimitBytes)}%)`,
    row.delivery,
    row.refusal ? 'REFUSED' : row.unchanged ? 'unchanged' : 'built',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n');
}
