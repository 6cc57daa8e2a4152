import { formatBytes } from '../format-units.ts';
import type { QuantizedGraph } from './quantize-files.ts';

/** What `honnx models quantize` prints for one graph: sizes, then each node changed or left alone and why. */
export function formatQuantizeReport(graph: QuantizedGraph): string {
  const ratio = graph.bytesBefore > 0 ? graph.bytesAfter / graph.bytesBefore : 0;
  const changed = graph.decisions.filter((decision) => decision.changed);
  const kept = graph.decisions.filter((decision) => !decision.changed);
  const where = (graphLabel: string) => (graphLabel === 'main' ? '' : ` [in ${graphLabel}]`);
  return [
    `${graph.input} → ${graph.output}`,
    `  size: ${formatBytes(graph.bytesBefore)} → ${formatBytes(graph.bytesAfter)} (${(ratio * 100).toFixed(1)}% of the original, ${(1 / (ratio || 1)).toFixed(2)}× smaller)`,
    `  changed (${changed.length}):`,
    ...changed.map((decision) => `    ${decision.opType} ${decision.node}${where(decision.graph)}: ${decision.detail}`),
    `  left alone (${kept.length}):`,
    ...kept.map((decision) => `    ${decision.opType} ${decision.node}${where(decision.graph)}: ${decision.detail}`),
  ].join('\n');
}
