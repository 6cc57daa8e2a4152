import { readAttribute } from './attributes.ts';
import { createNode } from './graph-builder.ts';
import { DataType, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './onnx-types.ts';
import { createTensor, readTensorValues } from './tensor-data.ts';

const PREFIX = 'honnx_gqa';
const PRESENT = /^present\.(\d+)\.(key|value)$/;
// What a grouped-query export puts between the cache and the attention MatMuls: the repeat of kv heads
// (Unsqueeze → Expand → Reshape) and, for keys, the Transpose to [B, H, D, T].
const REPEAT_OPS = new Set(['Unsqueeze', 'Expand', 'Reshape', 'Transpose']);

/** What `useGroupQueryAttention` did: how many layers it replaced, or why it left the graph as it was. */
export interface GroupQueryAttentionResult {
  layers: number;
  /** Why nothing was replaced (undefined when every layer was). */
  refused?: string;
}

class Refusal extends Error {}

function refuse(reason: string): never {
  throw new Refusal(reason);
}

interface Index {
  graph: GraphProto;
  producers: Map<string, NodeProto>;
  consumers: Map<string, NodeProto[]>;
  outputs: Set<string>;
  initializers: Map<string, TensorProto>;
}

function indexGraph(graph: GraphProto): Index {
  const producers = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node ?? []) {
    for (const output of node.output ?? []) producers.set(output, node);
    for (const input of node.input ?? []) {
      if (!input) continue;
      const list = consumers.get(input);
      if (list) list.push(node);
      else consumers.set(input, [node]);
    }
  }
  return {
    graph,
    producers,
    consumers,
    outputs: new Set((graph.output ?? []).map((output) => output.name ?? '')),
    initializers: new Map((graph.initializer ?? []).map((tensor) => [tensor.name ?? '', tensor])),
  };
}

const attributeOf = (node: NodeProto, name: string) => {
  const attribute = node.attribute?.find((entry) => entry.name === name);
  return attribute ? readAttribute(attribute) : undefined;
};
const numbersOf = (value: unknown) => (Array.isArray(value) ? value.map(Number) : undefined);
const samePermutation = (node: NodeProto, permutation: readonly number[]) => numbersOf(attributeOf(node, 'perm'))?.join() === permutation.join();

/** The values of a constant (an initializer or a Constant node's tensor), or undefined. */
function constantValues(index: Index, name: string): number[] | undefined {
  const tensor = index.initializers.get(name) ?? (index.producers.get(name)?.op_type === 'Constant' ? (attributeOf(index.producers.get(name)!, 'value') as TensorProto | undefined) : undefined);
  if (!tensor) return undefined;
  try {
    return Array.from(readTensorValues(tensor) as ArrayLike<number | bigint>, Number);
  } catch {
    return undefined;
  }
}

/** The one node that reads `name`, when nothing else (not a graph output either) does. */
function soleConsumer(index: Index, name: string): NodeProto | undefined {
  const list = index.consumers.get(name) ?? [];
  return list.length === 1 && !index.outputs.has(name) ? list[0] : undefined;
}

/** From a present tensor forward through the head repeat to the MatMul that reads it; the nodes crossed. */
function followRepeat(index: Index, present: string): { matMul: NodeProto; crossed: NodeProto[] } {
  const list = index.consumers.get(present) ?? [];
  if (list.length !== 1) refuse(`${present} is read by ${list.length} nodes, not one`);
  const crossed: NodeProto[] = [];
  let node = list[0];
  while (REPEAT_OPS.has(node.op_type ?? '') && !node.domain) {
    crossed.push(node);
    const next = soleConsumer(index, node.output?.[0] ?? '');
    if (!next || crossed.length > 8) refuse(`${present}'s head repeat is read elsewhere`);
    node = next;
  }
  if (node.op_type !== 'MatMul') refuse(`${present} reaches ${node.op_type}, not a MatMul`);
  return { matMul: node, crossed };
}

interface Layer {
  layer: number;
  query: string;
  key: string;
  value: string;
  pastKey: string;
  pastValue: string;
  mask: string;
  scale: number;
  heads: number;
  keyValueHeads: number;
  /** The attention's output, (B, S, H·D): the GroupQueryAttention node's first output takes this name. */
  output: string;
  presentKey: string;
  presentValue: string;
  /** Where the GroupQueryAttention node goes: the node that made `output`. */
  anchor: NodeProto;
  replaced: NodeProto[];
}

const dimensionOf = (graph: GraphProto, input: string, axis: number) => {
  const dim = graph.input?.find((entry) => entry.name === input)?.type?.tensor_type?.shape?.dim?.[axis];
  return dim?.dim_value === undefined ? undefined : Number(dim.dim_value);
};

function matchLayer(index: Index, layer: number): Layer {
  const presentKey = `present.${layer}.key`;
  const presentValue = `present.${layer}.value`;
  const concat = (name: string) => {
    const node = index.producers.get(name);
    const axis = node ? Number(attributeOf(node, 'axis')) : NaN;
    if (node?.op_type !== 'Concat' || node.input?.length !== 2 || (axis !== 2 && axis !== -2)) refuse(`${name} is not a Concat of past and new on axis 2`);
    if (!node.input[0].startsWith('past_key_values.')) refuse(`${name} does not concatenate a past_key_values input`);
    return { node, past: node.input[0], added: node.input[1] };
  };
  const keyConcat = concat(presentKey);
  const valueConcat = concat(presentValue);
  const keys = followRepeat(index, presentKey);
  const values = followRepeat(index, presentValue);
  const transposes = keys.crossed.filter((node) => node.op_type === 'Transpose');
  if (transposes.length !== 1 || !samePermutation(transposes[0], [0, 1, 3, 2])) refuse(`present.${layer}.key reaches its MatMul without one Transpose to [B, H, D, T]`);
  if (values.crossed.some((node) => node.op_type === 'Transpose')) refuse(`present.${layer}.value is transposed before its MatMul`);
  const scores = keys.matMul;
  const context = values.matMul;
  if (scores.input?.[1] !== keys.crossed.at(-1)?.output?.[0]) refuse(`layer ${layer}: the repeated keys are not the scores MatMul's second input`);
  if (context.input?.[1] !== values.crossed.at(-1)?.output?.[0] && context.input?.[1] !== presentValue) refuse(`layer ${layer}: the values are not the context MatMul's second input`);

  // scores → (scale) → mask → (Cast) → Softmax → (Cast) → the context MatMul's first input.
  const replaced = [keyConcat.node, valueConcat.node, ...keys.crossed, ...values.crossed, scores];
  let scale = 1;
  let mask: string | undefined;
  let current = scores.output?.[0] ?? '';
  for (let hops = 0; ; hops++) {
    const node = soleConsumer(index, current);
    if (!node || hops > 6) refuse(`layer ${layer}: the scores do not lead to one Softmax`);
    const [first, second] = node.input ?? [];
    const other = first === current ? second : first;
    replaced.push(node);
    current = node.output?.[0] ?? '';
    if (node.op_type === 'Cast') continue;
    if ((node.op_type === 'Mul' || node.op_type === 'Div') && mask === undefined) {
      const factor = constantValues(index, other);
      if (factor?.length !== 1 || (node.op_type === 'Div' && first !== scores.output?.[0])) refuse(`layer ${layer}: the scores are scaled by something other than a constant`);
      scale *= node.op_type === 'Mul' ? factor[0] : 1 / factor[0];
      continue;
    }
    if (node.op_type === 'Add' && mask === undefined && constantValues(index, other) === undefined) {
      mask = other;
      continue;
    }
    if (node.op_type === 'Softmax' && mask !== undefined && [-1, 3].includes(Number(attributeOf(node, 'axis') ?? -1))) break;
    refuse(`layer ${layer}: the scores go through ${node.op_type}, which this rewrite does not know`);
  }
  while (soleConsumer(index, current)?.op_type === 'Cast') {
    const cast = soleConsumer(index, current)!;
    replaced.push(cast);
    current = cast.output?.[0] ?? '';
  }
  if (context.input?.[0] !== current || soleConsumer(index, current) !== context) refuse(`layer ${layer}: the probabilities are not the context MatMul's first input`);
  replaced.push(context);

  // context (B, H, S, D) → Transpose to (B, S, H, D) → Reshape to (B, S, H·D).
  const transpose = soleConsumer(index, context.output?.[0] ?? '');
  if (transpose?.op_type !== 'Transpose' || !samePermutation(transpose, [0, 2, 1, 3])) refuse(`layer ${layer}: the context is not transposed back to (B, S, H, D)`);
  const merge = soleConsumer(index, transpose.output?.[0] ?? '');
  if (merge?.op_type !== 'Reshape') refuse(`layer ${layer}: the context is not reshaped to (B, S, H·D)`);
  replaced.push(transpose, merge);

  const keyValueHeads = dimensionOf(index.graph, keyConcat.past, 1);
  const headSize = dimensionOf(index.graph, keyConcat.past, 3);
  const mergedShape = constantValues(index, merge.input?.[1] ?? '');
  const width = mergedShape?.length === 3 ? mergedShape[2] : undefined;
  if (!keyValueHeads || !headSize || !width || width % headSize !== 0) refuse(`layer ${layer}: the head counts are not readable from the cache input and the merge Reshape`);
  const heads = width / headSize;
  if (heads % keyValueHeads !== 0) refuse(`layer ${layer}: ${heads} heads are no multiple of ${keyValueHeads} kv heads`);
  return {
    layer,
    query: scores.input![0],
    key: keyConcat.added,
    value: valueConcat.added,
    pastKey: keyConcat.past,
    pastValue: valueConcat.past,
    mask: mask!,
    scale,
    heads,
    keyValueHeads,
    output: merge.output![0],
    presentKey,
    presentValue,
    anchor: merge,
    replaced,
  };
}

/** Removes nodes none of whose outputs is read or is a graph output, until none is left. */
function pruneDeadNodes(graph: GraphProto): void {
  const outputs = new Set((graph.output ?? []).map((output) => output.name ?? ''));
  for (;;) {
    const read = new Set<string>(outputs);
    for (const node of graph.node ?? []) for (const input of node.input ?? []) read.add(input);
    for (const node of graph.node ?? []) for (const attribute of node.attribute ?? []) for (const subgraph of [attribute.g, ...(attribute.graphs ?? [])]) for (const inner of subgraph?.node ?? []) for (const input of inner.input ?? []) read.add(input);
    const kept = (graph.node ?? []).filter((node) => (node.output ?? []).some((output) => output && read.has(output)));
    if (kept.length === graph.node!.length) return;
    graph.node = kept;
  }
}

/**
 * Replaces the attention of an optimum (onnx-community) decoder export with com.microsoft GroupQueryAttention, one
 * node a layer. The export recomputes the whole cache every step: `present = Concat(past, new)`, then repeats each
 * kv head for its group of query heads (Unsqueeze → Expand → Reshape), transposes the keys and multiplies; ONNX
 * Runtime's GroupQueryAttention appends to the cache and attends with the grouped heads in one kernel. Rotary
 * embeddings and q/k norms stay where the export put them (`do_rotary` 0); the export's mask (causal and padding, the
 * Add before Softmax) becomes the node's `attention_bias`, so left-padded batch rows see what they saw before; and
 * `seqlens_k` is the total length less one for every row (the cache holds every position, padding included).
 *
 * Each layer is found by walking back from `present.N.key` / `present.N.value`; anything the walk does not know
 * (another op between the cache and the MatMuls, a scale that is no constant, heads not readable from the graph)
 * refuses the whole graph, which is then left exactly as it was.
 */
export function useGroupQueryAttention(model: ModelProto): GroupQueryAttentionResult {
  const graph = model.graph;
  if (!graph?.node) return { layers: 0, refused: 'no graph' };
  if ((graph.input ?? []).every((input) => input.name !== 'attention_mask')) return { layers: 0, refused: 'no attention_mask input' };
  if (graph.node.some((node) => node.op_type === 'GroupQueryAttention')) return { layers: 0, refused: 'the graph has GroupQueryAttention already' };
  const layerNumbers = (graph.output ?? []).flatMap((output) => {
    const match = PRESENT.exec(output.name ?? '');
    return match?.[2] === 'key' ? [Number(match[1])] : [];
  });
  if (layerNumbers.length === 0) return { layers: 0, refused: 'no present.N.key outputs' };
  // Float16 caches are left as exported: only float32 has been checked against the exported graph here.
  const cacheTypes = (graph.input ?? []).filter((input) => input.name?.startsWith('past_key_values.')).map((input) => input.type?.tensor_type?.elem_type);
  if (cacheTypes.some((type) => Number(type) !== DataType.FLOAT)) return { layers: 0, refused: 'the cache is not float32' };
  const index = indexGraph(graph);
  let layers: Layer[];
  try {
    layers = layerNumbers.map((layer) => matchLayer(index, layer));
  } catch (error) {
    if (error instanceof Refusal) return { layers: 0, refused: error.message };
    throw error;
  }

  // Computed once from the mask: the total length (a scalar) and, for every row, that length less one.
  const length = `${PREFIX}_total_sequence_length`;
  const seqlens = `${PREFIX}_seqlens_k`;
  const shared = [
    createNode('Shape', ['attention_mask'], [`${PREFIX}_mask_shape`], {}, { name: `${PREFIX}_mask_shape` }),
    createNode('Gather', [`${PREFIX}_mask_shape`, `${PREFIX}_one`], [`${PREFIX}_total_int64`], { axis: 0 }, { name: `${PREFIX}_total` }),
    createNode('Cast', [`${PREFIX}_total_int64`], [length], { to: DataType.INT32 }, { name: `${PREFIX}_total_int32` }),
    createNode('Slice', [`${PREFIX}_mask_shape`, `${PREFIX}_zeros`, `${PREFIX}_ones`], [`${PREFIX}_batch`], {}, { name: `${PREFIX}_batch` }),
    createNode('Sub', [length, `${PREFIX}_one_int32`], [`${PREFIX}_last`], {}, { name: `${PREFIX}_last` }),
    createNode('Expand', [`${PREFIX}_last`, `${PREFIX}_batch`], [seqlens], {}, { name: `${PREFIX}_seqlens` }),
  ];
  const replaced = new Set(layers.flatMap((layer) => layer.replaced));
  const nodes: NodeProto[] = [...shared];
  const anchors = new Map(layers.map((layer) => [layer.anchor, layer]));
  for (const node of graph.node) {
    const layer = anchors.get(node);
    if (layer) nodes.push(...attentionNodes(layer, length, seqlens));
    else if (!replaced.has(node)) nodes.push(node);
  }
  graph.node = nodes;
  graph.initializer = [
    ...(graph.initializer ?? []),
    createTensor(`${PREFIX}_one`, BigInt64Array.of(1n), []),
    createTensor(`${PREFIX}_zeros`, BigInt64Array.of(0n), [1]),
    createTensor(`${PREFIX}_ones`, BigInt64Array.of(1n), [1]),
    createTensor(`${PREFIX}_one_int32`, Int32Array.of(1), []),
    createTensor(`${PREFIX}_to_tokens_first`, BigInt64Array.of(0n, 0n, -1n), [3]),
  ];
  if (!(model.opset_import ?? []).some((entry) => entry.domain === 'com.microsoft')) model.opset_import = [...(model.opset_import ?? []), { domain: 'com.microsoft', version: 1 }];
  pruneDeadNodes(graph);
  return { layers: layers.length };
}

/** (B, N, S, D) → (B, S, N·D), then the layer's GroupQueryAttention node. */
function attentionNodes(layer: Layer, length: string, seqlens: string): NodeProto[] {
  const name = `${PREFIX}_${layer.layer}`;
  const nodes: NodeProto[] = [];
  const tokensFirst = (input: string, role: string) => {
    nodes.push(
      createNode('Transpose', [input], [`${name}_${role}_bsnd`], { perm: [0, 2, 1, 3] }, { name: `${name}_${role}_transpose` }),
      createNode('Reshape', [`${name}_${role}_bsnd`, `${PREFIX}_to_tokens_first`], [`${name}_${role}`], {}, { name: `${name}_${role}_reshape` }),
    );
    return `${name}_${role}`;
  };
  const inputs = [tokensFirst(layer.query, 'query'), tokensFirst(layer.key, 'key'), tokensFirst(layer.value, 'value'), layer.pastKey, layer.pastValue, seqlens, length, '', '', '', layer.mask];
  nodes.push(
    createNode('GroupQueryAttention', inputs, [layer.output, layer.presentKey, layer.presentValue], { num_heads: layer.heads, kv_num_heads: layer.keyValueHeads, do_rotary: 0, scale: { float: layer.scale } }, { domain: 'com.microsoft', name }),
  );
  return nodes;
}
