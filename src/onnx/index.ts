/** Reading, writing and building ONNX models in TypeScript, with no Python and no onnxruntime. */
export { decodeGraphProto, decodeModel, decodeTensorProto, encodeModel, encodeTensorProto } from './onnx-codec.ts';
export { readModelOutline, type ReadBytesAt } from './read-model-outline.ts';
export { setMatMulNBitsAccuracy } from './matmul-accuracy.ts';
export { addLogitsToKeep } from './logits-to-keep.ts';
export { useGroupQueryAttention, type GroupQueryAttentionResult } from './group-query-attention.ts';
export * from './onnx-types.ts';
export { createAttribute, readAttribute, type AttributeValue } from './attributes.ts';
export { GraphBuilder, createModel, createNode, createValueInfo, type Attributes, type ModelOptions, type NodeOptions, type Shape } from './graph-builder.ts';
export * from './tensor-data.ts';
