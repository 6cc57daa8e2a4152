import { formatBytes, formatCount, formatShape } from '../format-units.ts';
import type { InspectedGraph, ModelInspection } from './inspect-model.ts';

function formatGraph(graph: InspectedGraph): string[] {
  const lines = [
    `${graph.path}  ${formatBytes(graph.totalBytes)}  ${graph.precision}`,
    `  IR ${graph.irVersion}, opset ${graph.opsets.map((opset) => `${opset.domain} ${opset.version}`).join(', ')}${graph.producer ? `, made by ${graph.producer}` : ''}`,
    '  inputs:',
    ...graph.inputs.map((input) => `    ${input.name}  ${input.type} ${formatShape(input.shape)}`),
    '  outputs:',
    ...graph.outputs.map((output) => `    ${output.name}  ${output.type} ${formatShape(output.shape)}`),
    `  parameters: ${formatCount(graph.parameterCount)}`,
    `  weights by type: ${graph.sizeByType.map((size) => `${size.type} ${formatBytes(size.bytes)} (${formatCount(size.elements)} values)`).join(', ') || 'none'}`,
    `  operators (${Object.keys(graph.operators).length}): ${Object.entries(graph.operators)
      .map(([operator, count]) => `${operator} ×${count}`)
      .join(', ')}`,
  ];
  if (graph.externalDataFiles.length > 0) lines.push(`  external data: ${graph.externalDataFiles.join(', ')}`);
  return lines;
}

/** The text `honnx models inspect` prints. */
export function formatInspection(inspection: ModelInspection): string {
  const { task } = inspection;
  const header = [
    inspection.path,
    inspection.configFound
      ? `  config.json: ${[inspection.modelType && `model_type ${inspection.modelType}`, inspection.architecture].filter(Boolean).join(', ') || 'present'}`
      : '  no config.json beside the graph: the task is judged from the graph alone',
  ];
  if (inspection.labels) {
    const shown = inspection.labels.slice(0, 12).join(', ');
    header.push(`  labels (${inspection.labels.length}): ${shown}${inspection.labels.length > 12 ? ', ...' : ''}`);
  }
  const fit = task.task
    ? [`task: ${task.task}${task.alsoFits.length ? ` (also fits: ${task.alsoFits.join(', ')})` : ''}`, `runner: ${task.runner}`, `because: ${task.reason}`]
    : [`task: none fits`, `because: ${task.reason}`];
  return [...header, '', ...inspection.graphs.flatMap((graph) => [...formatGraph(graph), '']), ...fit].join('\n');
}
