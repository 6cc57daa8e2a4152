import { AttributeType, type GraphProto, type ModelProto } from './onnx-types.ts';

function setInGraph(graph: GraphProto, level: number): number {
  let changed = 0;
  for (const node of graph.node ?? []) {
    for (const attribute of node.attribute ?? []) {
      // Branches of If and Loop bodies hold nodes of their own.
      if (attribute.g) changed += setInGraph(attribute.g, level);
      for (const branch of attribute.graphs ?? []) changed += setInGraph(branch, level);
    }
    if (node.op_type !== 'MatMulNBits' || node.domain !== 'com.microsoft') continue;
    const attributes = (node.attribute ??= []);
    const existing = attributes.find((attribute) => attribute.name === 'accuracy_level');
    if (existing && Number(existing.i ?? 0) !== 0) continue;
    if (existing) existing.i = level;
    else attributes.push({ name: 'accuracy_level', type: AttributeType.INT, i: level });
    changed++;
  }
  return changed;
}

/**
 * Sets `accuracy_level` on every com.microsoft MatMulNBits node that leaves it unset or 0 (0 lets ONNX Runtime's CPU
 * kernel compute in float32), subgraphs included; nodes the export gave a level keep it. Returns how many changed.
 * Level 4 computes with int8-quantized activations per block, as llama.cpp's Q4_0 × Q8_0 dot products do.
 */
export function setMatMulNBitsAccuracy(model: ModelProto, level: 1 | 2 | 3 | 4): number {
  return model.graph ? setInGraph(model.graph, level) : 0;
}
