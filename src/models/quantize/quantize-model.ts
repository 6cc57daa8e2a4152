import { readAttribute } from '../../onnx/attributes.ts';
import { createNode } from '../../onnx/graph-builder.ts';
import { DataType, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../../onnx/onnx-types.ts';
import { countElements, createTensor, elementTypeName, readFloat32Values, type ReadTensorOptions } from '../../onnx/tensor-data.ts';
import { collectNames, countReads, listSubgraphs, NameAllocator, readOpsetVersion } from './graph-walk.ts';
import { quantizeBlocks4Bit, quantizeColumnsUint8, quantizeRowsInt8, transpose } from './weight-quantization.ts';

export type QuantizationMode = 'int8' | 'q4';

export interface QuantizeOptions {
  mode: QuantizationMode;
  /** q4: weights per block along K; a power of two of at least 16. */
  blockSize?: number;
  /** MatMul/Gemm weights with fewer elements stay float: they save little and often sit where errors hurt most (output heads). */
  minWeightElements?: number;
  /** Gather tables with fewer elements stay float (position and token-type embeddings). */
  minEmbeddingElements?: number;
  /** Node names never to touch. */
  exclude?: readonly string[];
  readExternalData?: ReadTensorOptions['readExternalData'];
}

export const DEFAULT_BLOCK_SIZE = 32;
export const DEFAULT_MIN_WEIGHT_ELEMENTS = 1024;
export const DEFAULT_MIN_EMBEDDING_ELEMENTS = 65_536;

/** What happened to one candidate node (a MatMul, a Gemm, or a Gather reading a constant table). */
export interface NodeDecision {
  /** "main", or the path of the subgraph holding the node. */
  graph: string;
  node: string;
  opType: string;
  changed: boolean;
  /** What it became, or why it was left alone. */
  detail: string;
}

export interface QuantizeResult {
  model: ModelProto;
  decisions: NodeDecision[];
}

interface OwnedTensor {
  tensor: TensorProto;
  owner: GraphProto;
}

interface GraphFrame {
  graph: GraphProto;
  label: string;
  /** Replacement node list being built for this graph. */
  nodes: NodeProto[];
  /** DynamicQuantizeLinear outputs by activation name, shared by every MatMul of this graph reading it. */
  quantizedActivations: Map<string, { values: string; scale: string; zeroPoint: string }>;
}

const FLOAT = DataType.FLOAT;

/**
 * Rewrites a model's weights to 8 or 4 bits, in TypeScript on the ONNX protobuf.
 *
 * int8 (dynamic quantization, as onnxruntime's quantize_dynamic): each MatMul/Gemm with a constant 2-D weight
 * becomes DynamicQuantizeLinear(A) → MatMulInteger(A_q, W_q) → Cast → Mul(A_scale · W_scale), with uint8 weights
 * and one scale and zero point per output column. q4: each becomes com.microsoft MatMulNBits with 4-bit blocks
 * along K. In both modes, large Gather tables (embeddings) become int8 rows with a per-row scale, dequantized
 * after the Gather, so only the gathered rows are ever widened. Every operator used runs on onnxruntime-node and
 * onnxruntime-web's WASM backend.
 *
 * The model is changed in place and returned, with one decision per candidate node.
 */
export function quantizeModel(model: ModelProto, options: QuantizeOptions): QuantizeResult {
  const main = model.graph;
  if (!main) throw new Error('the model has no graph');
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) throw new Error(`--block-size must be a power of two of at least 16, not ${blockSize}`);
  const minWeightElements = options.minWeightElements ?? DEFAULT_MIN_WEIGHT_ELEMENTS;
  const minEmbeddingElements = options.minEmbeddingElements ?? DEFAULT_MIN_EMBEDDING_ELEMENTS;
  const excluded = new Set(options.exclude ?? []);
  const opset = readOpsetVersion(model, '') ?? 1;
  const names = new NameAllocator(collectNames(model));
  const reads = countReads(model);
  // From IR 4 on, an initializer also listed as a graph input is a default the caller may replace; before
  // that, every initializer had to be listed as an input.
  const overridable = new Set(Number(model.ir_version ?? 0) >= 4 ? (main.input ?? []).map((input) => input.name) : []);
  const decisions: NodeDecision[] = [];
  /** Quantized forms already made, by weight and scheme, so a weight shared by several nodes is stored once. */
  const made = new Map<string, Record<string, string>>();
  /** Float weights that nodes stopped reading, to drop once nothing reads them. */
  const released: { name: string; decision: NodeDecision }[] = [];
  const readTensor = (tensor: TensorProto) => readFloat32Values(tensor, { readExternalData: options.readExternalData });

  const findConstant = (name: string, scopes: readonly GraphProto[]): OwnedTensor | undefined => {
    for (let index = scopes.length - 1; index >= 0; index--) {
      const tensor = scopes[index].initializer?.find((candidate) => candidate.name === name);
      if (tensor) return { tensor, owner: scopes[index] };
    }
    return undefined;
  };

  const addInitializer = (owner: GraphProto, tensor: TensorProto) => {
    (owner.initializer ??= []).push(tensor);
    return tensor.name!;
  };

  const addFloatConstant = (owner: GraphProto, base: string, values: Float32Array, dims: number[]) =>
    addInitializer(owner, createTensor(names.allocate(base), values, dims));

  const release = (weight: string, decision: NodeDecision) => {
    reads.set(weight, (reads.get(weight) ?? 1) - 1);
    released.push({ name: weight, decision });
  };

  /** Why a weight cannot be quantized as a [rows, columns] float32 matrix, or undefined when it can. */
  const refuseWeight = (name: string, constant: OwnedTensor | undefined, minimum: number, role: string): string | undefined => {
    if (!constant) return `its ${role} is computed at run time, not a stored weight`;
    const { tensor } = constant;
    if (overridable.has(name)) return `its ${role} ${name} is also a graph input, which callers may override`;
    if (tensor.data_type !== FLOAT) return `its ${role} is ${elementTypeName(tensor.data_type)}, not float32`;
    if ((tensor.dims ?? []).length !== 2) return `its ${role} has ${(tensor.dims ?? []).length} dimensions; only 2-D weights are quantized`;
    const elements = countElements(tensor.dims);
    if (elements < minimum) return `its ${role} is small (${elements.toLocaleString('en-US')} values < ${minimum.toLocaleString('en-US')}), so it saves little`;
    return undefined;
  };

  const dynamicQuantize = (frame: GraphFrame, activation: string) => {
    let quantized = frame.quantizedActivations.get(activation);
    if (!quantized) {
      const base = `${activation}_quantized`;
      quantized = { values: names.allocate(base), scale: names.allocate(`${activation}_scale`), zeroPoint: names.allocate(`${activation}_zero_point`) };
      frame.nodes.push(
        createNode('DynamicQuantizeLinear', [activation], [quantized.values, quantized.scale, quantized.zeroPoint], {}, { name: names.allocate(`${base}_node`) }),
      );
      frame.quantizedActivations.set(activation, quantized);
    }
    return quantized;
  };

  /** The weight as a [K, N] matrix: Gemm stores it [N, K] when transB = 1. */
  const readMatrix = (tensor: TensorProto, transposed: boolean) => {
    const [first, second] = (tensor.dims ?? []).map(Number);
    const values = readTensor(tensor);
    return transposed ? { values: transpose(values, first, second), rows: second, columns: first } : { values, rows: first, columns: second };
  };

  const columnQuantized = (constant: OwnedTensor, transposed: boolean, alpha: number) => {
    const key = `u8|${constant.tensor.name}|${transposed}|${alpha}`;
    const cached = made.get(key);
    if (cached) return cached;
    const { values, rows, columns } = readMatrix(constant.tensor, transposed);
    const quantized = quantizeColumnsUint8(values, rows, columns);
    if (alpha !== 1) for (let index = 0; index < quantized.scales.length; index++) quantized.scales[index] = Math.fround(quantized.scales[index] * alpha);
    const base = constant.tensor.name!;
    const quantizedNames = {
      values: addInitializer(constant.owner, createTensor(names.allocate(`${base}_quantized`), quantized.values, [rows, columns])),
      scale: addFloatConstant(constant.owner, `${base}_scale`, quantized.scales, [columns]),
      zeroPoint: addInitializer(constant.owner, createTensor(names.allocate(`${base}_zero_point`), quantized.zeroPoints, [columns])),
      shape: `${rows}x${columns}`,
    };
    made.set(key, quantizedNames);
    return quantizedNames;
  };

  const blockQuantized = (constant: OwnedTensor, transposed: boolean, alpha: number) => {
    const key = `q4|${constant.tensor.name}|${transposed}|${alpha}|${blockSize}`;
    const cached = made.get(key);
    if (cached) return cached;
    const { values, rows, columns } = readMatrix(constant.tensor, transposed);
    const quantized = quantizeBlocks4Bit(values, rows, columns, blockSize);
    if (alpha !== 1) for (let index = 0; index < quantized.scales.length; index++) quantized.scales[index] = Math.fround(quantized.scales[index] * alpha);
    const base = constant.tensor.name!;
    const quantizedNames = {
      values: addInitializer(constant.owner, createTensor(names.allocate(`${base}_q4`), quantized.packed, [columns, quantized.blockCount, blockSize / 2])),
      scale: addFloatConstant(constant.owner, `${base}_q4_scales`, quantized.scales, [columns, quantized.blockCount]),
      zeroPoint: addInitializer(
        constant.owner,
        createTensor(names.allocate(`${base}_q4_zero_points`), quantized.zeroPoints, [columns, Math.ceil(quantized.blockCount / 2)]),
      ),
      rows: String(rows),
      columns: String(columns),
    };
    made.set(key, quantizedNames);
    return quantizedNames;
  };

  /** Emits nodes computing `output` = A · W (· alpha), W given by its constant; returns what it became. */
  const emitProduct = (frame: GraphFrame, node: NodeProto, activation: string, constant: OwnedTensor, transposed: boolean, alpha: number, output: string) => {
    const base = node.name || output;
    if (options.mode === 'q4') {
      const weight = blockQuantized(constant, transposed, alpha);
      frame.nodes.push(
        createNode(
          'MatMulNBits',
          [activation, weight.values, weight.scale, weight.zeroPoint],
          [output],
          { K: Number(weight.rows), N: Number(weight.columns), bits: 4, block_size: blockSize },
          { domain: 'com.microsoft', name: names.allocate(`${base}_MatMulNBits`) },
        ),
      );
      return `MatMulNBits (4-bit, blocks of ${blockSize}, K ${weight.rows} × N ${weight.columns})`;
    }
    const weight = columnQuantized(constant, transposed, alpha);
    const input = dynamicQuantize(frame, activation);
    const integer = names.allocate(`${output}_int32`);
    const widened = names.allocate(`${output}_float`);
    const scale = names.allocate(`${output}_combined_scale`);
    frame.nodes.push(
      createNode('MatMulInteger', [input.values, weight.values, input.zeroPoint, weight.zeroPoint], [integer], {}, { name: names.allocate(`${base}_MatMulInteger`) }),
      createNode('Cast', [integer], [widened], { to: FLOAT }, { name: names.allocate(`${base}_Cast`) }),
      createNode('Mul', [input.scale, weight.scale], [scale], {}, { name: names.allocate(`${base}_scale_Mul`) }),
      createNode('Mul', [widened, scale], [output], {}, { name: names.allocate(`${base}_Mul`) }),
    );
    return `DynamicQuantizeLinear + MatMulInteger (uint8, per-column scales, ${weight.shape})`;
  };

  const decide = (frame: GraphFrame, node: NodeProto, changed: boolean, detail: string): NodeDecision => {
    const decision = { graph: frame.label, node: node.name ?? '(unnamed)', opType: node.op_type ?? '', changed, detail };
    decisions.push(decision);
    return decision;
  };

  const keep = (frame: GraphFrame, node: NodeProto, reason: string) => {
    frame.nodes.push(node);
    decide(frame, node, false, reason);
  };

  const int8Unsupported = () =>
    options.mode === 'int8' && opset < 11 ? `opset ${opset} has no DynamicQuantizeLinear (it needs opset 11); re-export at a newer opset` : undefined;

  const rewriteMatMul = (frame: GraphFrame, node: NodeProto, scopes: readonly GraphProto[]) => {
    const [activation, weightName] = node.input ?? [];
    const leftConstant = findConstant(activation, scopes);
    const constant = findConstant(weightName, scopes);
    if (!constant && leftConstant) return keep(frame, node, 'its weight is the left operand (W · x); only x · W is quantized');
    const refusal = refuseWeight(weightName, constant, minWeightElements, 'right operand') ?? int8Unsupported();
    if (refusal) return keep(frame, node, refusal);
    const became = emitProduct(frame, node, activation, constant!, false, 1, node.output![0]);
    release(weightName, decide(frame, node, true, became));
  };

  const rewriteGemm = (frame: GraphFrame, node: NodeProto, scopes: readonly GraphProto[]) => {
    const [activation, weightName, bias] = node.input ?? [];
    const attribute = (name: string, fallback: number) => {
      const found = node.attribute?.find((candidate) => candidate.name === name);
      return found ? Number(readAttribute(found)) : fallback;
    };
    if (attribute('transA', 0) !== 0) return keep(frame, node, 'transA = 1 (a transposed input) is not rewritten');
    const constant = findConstant(weightName, scopes);
    const refusal = refuseWeight(weightName, constant, minWeightElements, 'weight') ?? int8Unsupported();
    if (refusal) return keep(frame, node, refusal);
    const output = node.output![0];
    const product = bias ? names.allocate(`${output}_product`) : output;
    const became = emitProduct(frame, node, activation, constant!, attribute('transB', 0) === 1, attribute('alpha', 1), product);
    if (bias) {
      const beta = attribute('beta', 1);
      let scaledBias = bias;
      if (beta !== 1) {
        const betaName = addFloatConstant(scopes[0], `${node.name || output}_beta`, new Float32Array([beta]), []);
        scaledBias = names.allocate(`${bias}_times_beta`);
        frame.nodes.push(createNode('Mul', [bias, betaName], [scaledBias], {}, { name: names.allocate(`${node.name || output}_beta_Mul`) }));
      }
      frame.nodes.push(createNode('Add', [product, scaledBias], [output], {}, { name: names.allocate(`${node.name || output}_bias_Add`) }));
    }
    release(weightName, decide(frame, node, true, `${became}, then the bias Add`));
  };

  const rewriteGather = (frame: GraphFrame, node: NodeProto, scopes: readonly GraphProto[]) => {
    const [tableName, indices] = node.input ?? [];
    const constant = findConstant(tableName, scopes);
    // Gathers of shapes and other run-time values are not candidates, and listing them would bury the real ones.
    if (!constant) return void frame.nodes.push(node);
    const axisAttribute = node.attribute?.find((candidate) => candidate.name === 'axis');
    const axis = axisAttribute ? Number(readAttribute(axisAttribute)) : 0;
    if ((constant.tensor.dims ?? []).length === 2 && axis !== 0) return keep(frame, node, `it gathers along axis ${axis}; only row lookups (axis 0) are quantized`);
    const refusal = refuseWeight(tableName, constant, minEmbeddingElements, 'table');
    if (refusal) return keep(frame, node, refusal);
    const key = `rows|${tableName}`;
    let table = made.get(key);
    const [rows, width] = (constant.tensor.dims ?? []).map(Number);
    if (!table) {
      const quantized = quantizeRowsInt8(readTensor(constant.tensor), rows, width);
      table = {
        values: addInitializer(constant.owner, createTensor(names.allocate(`${tableName}_int8`), quantized.values, [rows, width])),
        scale: addFloatConstant(constant.owner, `${tableName}_row_scales`, quantized.scales, [rows, 1]),
      };
      made.set(key, table);
    }
    const output = node.output![0];
    const base = node.name || output;
    const gatheredValues = names.allocate(`${output}_int8`);
    const gatheredScales = names.allocate(`${output}_scales`);
    const widened = names.allocate(`${output}_float`);
    frame.nodes.push(
      createNode('Gather', [table.values, indices], [gatheredValues], { axis: 0 }, { name: names.allocate(`${base}_int8`) }),
      createNode('Gather', [table.scale, indices], [gatheredScales], { axis: 0 }, { name: names.allocate(`${base}_scales`) }),
      createNode('Cast', [gatheredValues], [widened], { to: FLOAT }, { name: names.allocate(`${base}_Cast`) }),
      createNode('Mul', [widened, gatheredScales], [output], {}, { name: names.allocate(`${base}_Mul`) }),
    );
    release(tableName, decide(frame, node, true, `int8 rows with per-row scales (${rows}×${width}), dequantized after the Gather`));
  };

  const rewriteGraph = (graph: GraphProto, scopes: readonly GraphProto[], label: string) => {
    const frame: GraphFrame = { graph, label, nodes: [], quantizedActivations: new Map() };
    const innerScopes = [...scopes, graph];
    for (const node of graph.node ?? []) {
      for (const { attribute, graph: subgraph } of listSubgraphs(node)) {
        rewriteGraph(subgraph, innerScopes, `${label}/${node.name || node.op_type}.${attribute.name}`);
      }
      const standard = !node.domain || node.domain === 'ai.onnx';
      if (standard && excluded.has(node.name ?? '') && ['MatMul', 'Gemm', 'Gather'].includes(node.op_type ?? '')) {
        keep(frame, node, 'excluded by --exclude');
      } else if (standard && node.op_type === 'MatMul') rewriteMatMul(frame, node, innerScopes);
      else if (standard && node.op_type === 'Gemm') rewriteGemm(frame, node, innerScopes);
      else if (standard && node.op_type === 'Gather') rewriteGather(frame, node, innerScopes);
      else frame.nodes.push(node);
    }
    graph.node = frame.nodes;
  };

  rewriteGraph(main, [], 'main');
  dropUnreadWeights(main, released, reads);
  if (options.mode === 'q4' && decisions.some((decision) => decision.changed && decision.detail.startsWith('MatMulNBits'))) {
    if (readOpsetVersion(model, 'com.microsoft') === undefined) (model.opset_import ??= []).push({ domain: 'com.microsoft', version: 1 });
  }
  return { model, decisions };
}

/** Removes float weights nothing reads any more; notes on the decision when one must stay. */
function dropUnreadWeights(main: GraphProto, released: readonly { name: string; decision: NodeDecision }[], reads: ReadonlyMap<string, number>): void {
  const unread = new Set(released.filter(({ name }) => (reads.get(name) ?? 0) <= 0).map(({ name }) => name));
  for (const { name, decision } of released) {
    if (!unread.has(name)) decision.detail += `; the float ${name} stays, other nodes read it`;
  }
  const prune = (graph: GraphProto) => {
    if (graph.initializer) graph.initializer = graph.initializer.filter((tensor) => !unread.has(tensor.name ?? ''));
    for (const node of graph.node ?? []) for (const { graph: subgraph } of listSubgraphs(node)) prune(subgraph);
  };
  prune(main);
  // Old exports (IR < 4) list every initializer as a graph input too.
  if (main.input) main.input = main.input.filter((input) => !unread.has(input.name ?? ''));
}
