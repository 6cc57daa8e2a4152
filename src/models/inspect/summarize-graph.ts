import { readAttribute } from '../../onnx/attributes.ts';
import { DataLocation, DataType, type GraphProto, type ModelProto, type TensorProto, type ValueInfoProto } from '../../onnx/onnx-types.ts';
import { BYTES_PER_ELEMENT, countElements, elementTypeName, readExternalDataReference } from '../../onnx/tensor-data.ts';
import { forEachGraph } from '../quantize/graph-walk.ts';

export interface ValueSummary {
  name: string;
  type: string;
  /** Fixed sizes as numbers, symbolic ones by name, "?" where the export left a dimension unnamed. */
  shape: (number | string)[] | undefined;
}

export interface TypeSize {
  type: string;
  tensors: number;
  elements: number;
  bytes: number;
}

/** What one ONNX graph file holds, read from its protobuf without running it. */
export interface GraphSummary {
  irVersion: number;
  producer: string;
  opsets: { domain: string; version: number }[];
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  /** Operator type → count, over the graph and every subgraph; contrib operators as "com.microsoft.MatMulNBits". */
  operators: Record<string, number>;
  /** Weight values (float and quantized tensors; not int64 shape constants), a 4-bit MatMulNBits weight as its K × N values. */
  parameterCount: number;
  sizeByType: TypeSize[];
  /** Files that hold tensor data outside the graph, relative to the graph's folder. */
  externalDataFiles: string[];
  /** The weight format, from the operators and weight types: fp32, fp16, int8, q4, ... */
  precision: string;
}

/** Index, shape and flag constants: stored in the graph, but not weights. */
const NOT_PARAMETERS = new Set<number>([DataType.INT64, DataType.INT32, DataType.BOOL, DataType.STRING, DataType.UINT64]);

function describeValue(value: ValueInfoProto): ValueSummary {
  const tensorType = value.type?.tensor_type;
  const dims = tensorType?.shape?.dim;
  return {
    name: value.name ?? '',
    type: tensorType ? elementTypeName(tensorType.elem_type) : 'non-tensor',
    shape: dims?.map((dim) => (dim.dim_value !== undefined ? Number(dim.dim_value) : (dim.dim_param ?? '?'))),
  };
}

function storedBytes(tensor: TensorProto): number {
  if (tensor.data_location === DataLocation.EXTERNAL) {
    const reference = readExternalDataReference(tensor.external_data);
    if (reference.length !== undefined) return reference.length;
  }
  if (tensor.raw_data) return tensor.raw_data.byteLength;
  const perElement = BYTES_PER_ELEMENT[tensor.data_type ?? 0] ?? 0;
  return countElements(tensor.dims) * perElement;
}

/** Names of packed 4-bit weights and their logical K × N size, from the MatMulNBits nodes that read them. */
function findPackedWeights(graph: GraphProto): Map<string, number> {
  const packed = new Map<string, number>();
  forEachGraph(graph, (inner) => {
    for (const node of inner.node ?? []) {
      if (node.op_type !== 'MatMulNBits' || !node.input?.[1]) continue;
      const attribute = (name: string) => Number(readAttribute(node.attribute!.find((candidate) => candidate.name === name)!));
      packed.set(node.input[1], attribute('K') * attribute('N'));
    }
  });
  return packed;
}

function readPrecision(operators: Record<string, number>, sizes: readonly TypeSize[]): string {
  const weightBytes = (type: string) => sizes.find((size) => size.type === type)?.bytes ?? 0;
  if (operators['com.microsoft.MatMulNBits']) return 'q4 (MatMulNBits, 4-bit weights)';
  if (operators.MatMulInteger || operators.DynamicQuantizeLinear || operators['com.microsoft.DynamicQuantizeMatMul']) return 'int8 (dynamic quantization)';
  if (operators.DequantizeLinear || operators.QLinearMatMul) return 'int8 (QDQ / QOperator)';
  if (weightBytes('float16') > weightBytes('float32')) return 'fp16';
  return 'fp32';
}

export function summarizeGraph(model: ModelProto): GraphSummary {
  const graph = model.graph;
  if (!graph) throw new Error('the model has no graph');
  const operators: Record<string, number> = {};
  const sizes = new Map<string, TypeSize>();
  const externalFiles = new Set<string>();
  const packed = findPackedWeights(graph);
  let parameterCount = 0;
  const countTensor = (tensor: TensorProto) => {
    const type = elementTypeName(tensor.data_type);
    const elements = countElements(tensor.dims);
    const entry = sizes.get(type) ?? { type, tensors: 0, elements: 0, bytes: 0 };
    entry.tensors += 1;
    entry.elements += elements;
    entry.bytes += storedBytes(tensor);
    sizes.set(type, entry);
    if (!NOT_PARAMETERS.has(tensor.data_type ?? 0)) parameterCount += packed.get(tensor.name ?? '') ?? elements;
    if (tensor.data_location === DataLocation.EXTERNAL) externalFiles.add(readExternalDataReference(tensor.external_data).location);
  };
  forEachGraph(graph, (inner) => {
    for (const tensor of inner.initializer ?? []) countTensor(tensor);
    for (const node of inner.node ?? []) {
      const key = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.op_type}` : (node.op_type ?? '');
      operators[key] = (operators[key] ?? 0) + 1;
    }
  });
  const sizeByType = [...sizes.values()].sort((a, b) => b.bytes - a.bytes);
  return {
    irVersion: Number(model.ir_version ?? 0),
    producer: [model.producer_name, model.producer_version].filter(Boolean).join(' '),
    opsets: (model.opset_import ?? []).map((opset) => ({ domain: opset.domain || 'ai.onnx', version: Number(opset.version ?? 0) })),
    inputs: (graph.input ?? []).filter((input) => !graph.initializer?.some((tensor) => tensor.name === input.name)).map(describeValue),
    outputs: (graph.output ?? []).map(describeValue),
    operators: Object.fromEntries(Object.entries(operators).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    parameterCount,
    sizeByType,
    externalDataFiles: [...externalFiles].sort(),
    precision: readPrecision(operators, sizeByType),
  };
}
