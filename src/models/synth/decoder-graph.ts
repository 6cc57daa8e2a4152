import { createModel, GraphBuilder } from '../../onnx/graph-builder.ts';
import { DataType, type ModelProto } from '../../onnx/onnx-types.ts';
import type { ElementType } from '../../onnx/tensor-data.ts';
import { toFloat16Array } from './float16.ts';
import { listDecoderWeights, type WeightSpec } from './decoder-weights.ts';
import { packMatMulNBits, Q4_BLOCK, quantizeQ4 } from './q4-blocks.ts';
import { computeInverseFrequencies, computeLongRopeCaches } from './rotary.ts';
import type { DecoderShape } from './synth-presets.ts';

export type SynthVariant = 'fp32' | 'fp16' | 'q4' | 'q4f16';
export const SYNTH_VARIANTS: readonly SynthVariant[] = ['fp32', 'fp16', 'q4', 'q4f16'];

/** A tensor of the file whose bytes are made when the file is written, from one generated weight. */
export interface StoredTensor {
  name: string;
  dims: readonly number[];
  dataType: number;
}

/** One generated weight and the tensors it is stored as (a 4-bit weight is codes and scales). */
export interface StoredWeight {
  spec: WeightSpec;
  tensors: StoredTensor[];
  /** The bytes of each tensor, in order, from the weight's values in checkpoint layout. */
  encode(values: Float32Array): Uint8Array[];
}

export interface DecoderGraph {
  /** The model without its weights' bytes. */
  model: ModelProto;
  weights: StoredWeight[];
}

/** Scores of masked keys: finite, so a fully masked (padding) row softmaxes to uniform rather than NaN, and float16-safe. */
const MASKED = -1e4;

const bytesOf = (values: ArrayBufferView) => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

/** [rows, columns] → [columns, rows]: a checkpoint's [out, in] linear weight as ONNX MatMul's [in, out]. */
function transpose(values: Float32Array, rows: number, columns: number): Float32Array {
  const result = new Float32Array(values.length);
  for (let row = 0; row < rows; row++) {
    const offset = row * columns;
    for (let column = 0; column < columns; column++) result[column * rows + row] = values[offset + column];
  }
  return result;
}

/** Choices of how the graph computes, beside its shape and variant. */
export interface DecoderGraphOptions {
  /**
   * MatMulNBits `accuracy_level` (0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8): the precision its CPU kernel computes
   * in. 4 quantizes the activations to 8 bits per block (as llama.cpp does); onnxruntime-genai's CPU builds use it.
   */
  accuracyLevel?: 0 | 1 | 2 | 3 | 4;
}

/**
 * A Qwen3 / Llama decoder in the layout of the optimum (onnx-community) exports: input_ids, attention_mask,
 * position_ids and past_key_values.N.key/value [batch, kv heads, past, head_dim] in; logits and present.N.key/value
 * out. Plain opset-17 operators (RMSNorm, rotary, causal + padding mask, Concat of the cache, Expand for grouped
 * heads), with com.microsoft.MatMulNBits (4 bits, block 32, symmetric) for the linear layers of q4 variants.
 */
export function buildDecoderGraph(shape: DecoderShape, variant: SynthVariant, options: DecoderGraphOptions = {}): DecoderGraph {
  const half = variant === 'fp16' || variant === 'q4f16';
  const quantized = variant === 'q4' || variant === 'q4f16';
  const activation: ElementType = half ? 'float16' : 'float32';
  const activationCode = half ? DataType.FLOAT16 : DataType.FLOAT;
  const graph = new GraphBuilder('main_graph');
  const weights: StoredWeight[] = [];
  const specs = new Map(listDecoderWeights(shape).map((spec) => [spec.name, spec]));
  const constants = new Map<string, string>();
  const { heads, keyValueHeads, headDimension, hiddenSize } = shape;

  const floatValues = (values: Float32Array) => (half ? bytesOf(toFloat16Array(values)) : bytesOf(values));
  const constant = (key: string, create: () => string) => {
    let name = constants.get(key);
    if (name === undefined) constants.set(key, (name = create()));
    return name;
  };
  /** A scalar of the activation type. */
  const scalar = (value: number) =>
    constant(`scalar:${value}`, () => {
      const name = graph.freshName('const_scalar');
      return half ? graph.addInitializer(name, toFloat16Array(Float32Array.of(value)), [], 'float16') : graph.addInitializer(name, Float32Array.of(value), []);
    });
  const float32 = (value: number) => constant(`float32:${value}`, () => graph.addInitializer(graph.freshName('const_float'), Float32Array.of(value), []));
  const int64 = (values: readonly number[], dims: number[] = [values.length]) =>
    constant(`int64:${values.join(',')}:${dims.length}`, () => graph.addInitializer(graph.freshName('const_int64'), BigInt64Array.from(values, BigInt), dims));
  const dimension = (value: string, axis: number) => graph.op('Gather', [graph.op('Shape', [value]), int64([axis], [])], { axis: 0 });
  const toActivation = (value: string) => (half ? graph.op('Cast', [value], { to: activationCode }) : value);
  const toFloat32 = (value: string) => (half ? graph.op('Cast', [value], { to: DataType.FLOAT }) : value);

  const store = (spec: WeightSpec, tensors: StoredTensor[], encode: StoredWeight['encode']) => {
    weights.push({ spec, tensors, encode });
    return tensors.map((tensor) => tensor.name);
  };
  const requireSpec = (name: string) => {
    const spec = specs.get(name);
    if (!spec) throw new Error(`no weight ${name}`);
    return spec;
  };
  const plainTensor = (name: string) => {
    const spec = requireSpec(name);
    return store(spec, [{ name, dims: spec.dims, dataType: activationCode }], (values) => [floatValues(values)])[0];
  };

  /** x · Wᵀ for a checkpoint weight [out, in]. */
  const linear = (x: string, weightName: string, storedName = weightName) => {
    const spec = requireSpec(weightName);
    const [out, input] = spec.dims;
    if (!quantized) {
      const [weight] = store(spec, [{ name: storedName, dims: [input, out], dataType: activationCode }], (values) => [floatValues(transpose(values, out, input))]);
      return graph.op('MatMul', [x, weight]);
    }
    const blocks = input / Q4_BLOCK;
    const [packed, scales] = store(
      spec,
      [
        { name: `${storedName}_Q4`, dims: [out, blocks, Q4_BLOCK / 2], dataType: DataType.UINT8 },
        { name: `${storedName}_scales`, dims: [out * blocks], dataType: activationCode },
      ],
      (values) => {
        const codes = quantizeQ4(values, out, input);
        return [packMatMulNBits(codes), floatValues(codes.scales)];
      },
    );
    const attributes: Record<string, number> = { K: input, N: out, bits: 4, block_size: Q4_BLOCK };
    if (options.accuracyLevel) attributes.accuracy_level = options.accuracyLevel;
    return graph.op('MatMulNBits', [x, packed, scales], attributes, { domain: 'com.microsoft' });
  };

  /** RMSNorm over the last axis, in float32 as the checkpoint's module computes it. */
  const rmsNorm = (x: string, weightName: string) => {
    const wide = toFloat32(x);
    const meanSquare = graph.op('ReduceMean', [graph.op('Mul', [wide, wide])], { axes: [-1], keepdims: 1 });
    const inverseRoot = graph.op('Reciprocal', [graph.op('Sqrt', [graph.op('Add', [meanSquare, float32(shape.rmsNormEpsilon)])])]);
    return graph.op('Mul', [toActivation(graph.op('Mul', [wide, inverseRoot])), plainTensor(weightName)]);
  };

  const inputIds = graph.addInput('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = graph.addInput('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  // onnxruntime-genai's Phi-3 graphs take no positions: GroupQueryAttention derives them from the mask.
  if (shape.family === 'phi3') return finishGroupQueryAttentionGraph();
  const positionIds = graph.addInput('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const past = addPastInputs();

  const embedding = plainTensor('model.embed_tokens.weight');
  let hidden = graph.op('Gather', [embedding, inputIds], { axis: 0 });

  // Rotary angles [batch, 1, sequence, head_dim], shared by every layer: positions × inverse frequencies, twice.
  const inverseFrequencies = graph.addInitializer('rotary_inverse_frequencies', computeInverseFrequencies(shape), [headDimension / 2]);
  const angles = graph.op('Mul', [graph.op('Unsqueeze', [graph.op('Cast', [positionIds], { to: DataType.FLOAT }), int64([-1])]), inverseFrequencies]);
  const doubled = graph.op('Concat', [angles, angles], { axis: -1 });
  const cosine = graph.op('Unsqueeze', [toActivation(graph.op('Cos', [doubled])), int64([1])]);
  const sine = graph.op('Unsqueeze', [toActivation(graph.op('Sin', [doubled])), int64([1])]);
  const rotate = (x: string) => {
    const firstHalf = graph.op('Slice', [x, int64([0]), int64([headDimension / 2]), int64([-1])]);
    const secondHalf = graph.op('Slice', [x, int64([headDimension / 2]), int64([headDimension]), int64([-1])]);
    const rotated = graph.op('Concat', [graph.op('Neg', [secondHalf]), firstHalf], { axis: -1 });
    return graph.op('Add', [graph.op('Mul', [x, cosine]), graph.op('Mul', [rotated, sine])]);
  };

  // New tokens sit at key positions past .. past + sequence - 1; each sees earlier keys the mask keeps.
  const pastLength = dimension(past[0].key, 2);
  const queryPositions = graph.op('Range', [pastLength, graph.op('Add', [pastLength, dimension(inputIds, 1)]), int64([1], [])]);
  const keyPositions = graph.op('Range', [int64([0], []), dimension(attentionMask, 1), int64([1], [])]);
  const causal = graph.op('LessOrEqual', [graph.op('Unsqueeze', [keyPositions, int64([0])]), graph.op('Unsqueeze', [queryPositions, int64([1])])]);
  const padding = graph.op('Unsqueeze', [graph.op('Cast', [attentionMask], { to: DataType.BOOL }), int64([1, 2])]);
  const maskBias = graph.op('Where', [graph.op('And', [causal, padding]), scalar(0), scalar(MASKED)]);

  const splitHeads = (x: string, count: number) => graph.op('Reshape', [x, int64([0, 0, count, headDimension])]);
  const toHeadsFirst = (x: string) => graph.op('Transpose', [x], { perm: [0, 2, 1, 3] });
  const groups = heads / keyValueHeads;
  const repeatHeads = (x: string) =>
    groups === 1 ? x : graph.op('Reshape', [graph.op('Expand', [graph.op('Unsqueeze', [x, int64([2])]), int64([1, 1, groups, 1, 1])]), int64([0, heads, -1, headDimension])]);

  for (let layer = 0; layer < shape.layers; layer++) {
    const prefix = `model.layers.${layer}`;
    const normed = rmsNorm(hidden, `${prefix}.input_layernorm.weight`);
    let query = splitHeads(linear(normed, `${prefix}.self_attn.q_proj.weight`), heads);
    let key = splitHeads(linear(normed, `${prefix}.self_attn.k_proj.weight`), keyValueHeads);
    if (shape.queryKeyNorm) {
      query = rmsNorm(query, `${prefix}.self_attn.q_norm.weight`);
      key = rmsNorm(key, `${prefix}.self_attn.k_norm.weight`);
    }
    query = rotate(toHeadsFirst(query));
    key = rotate(toHeadsFirst(key));
    const value = toHeadsFirst(splitHeads(linear(normed, `${prefix}.self_attn.v_proj.weight`), keyValueHeads));
    const [presentKey] = graph.addNode('Concat', [past[layer].key, key], [`present.${layer}.key`], { axis: 2 });
    const [presentValue] = graph.addNode('Concat', [past[layer].value, value], [`present.${layer}.value`], { axis: 2 });
    let scores = graph.op('MatMul', [query, graph.op('Transpose', [repeatHeads(presentKey)], { perm: [0, 1, 3, 2] })]);
    scores = graph.op('Add', [graph.op('Mul', [scores, scalar(1 / Math.sqrt(headDimension))]), maskBias]);
    const probabilities = toActivation(graph.op('Softmax', [toFloat32(scores)], { axis: -1 }));
    const context = graph.op('MatMul', [probabilities, repeatHeads(presentValue)]);
    const merged = graph.op('Reshape', [toHeadsFirst(context), int64([0, 0, heads * headDimension])]);
    hidden = addFeedForward(graph.op('Add', [hidden, linear(merged, `${prefix}.self_attn.o_proj.weight`)]), prefix);
  }

  return finishGraph(hidden, embedding);

  /** The residual stream plus the layer's SwiGLU MLP on its normed copy. */
  function addFeedForward(residual: string, prefix: string): string {
    const normed = rmsNorm(residual, `${prefix}.post_attention_layernorm.weight`);
    const gate = linear(normed, `${prefix}.mlp.gate_proj.weight`);
    const activated = graph.op('Mul', [graph.op('Mul', [gate, graph.op('Sigmoid', [gate])]), linear(normed, `${prefix}.mlp.up_proj.weight`)]);
    return graph.op('Add', [residual, linear(activated, `${prefix}.mlp.down_proj.weight`)]);
  }

  /** past_key_values.N.key / .value [batch, kv heads, past, head_dim], as both layouts name them. */
  function addPastInputs() {
    const cacheShape = ['batch_size', keyValueHeads, 'past_sequence_length', headDimension];
    return Array.from({ length: shape.layers }, (_, layer) => ({
      key: graph.addInput(`past_key_values.${layer}.key`, activation, cacheShape),
      value: graph.addInput(`past_key_values.${layer}.value`, activation, cacheShape),
    }));
  }

  /** The final norm, the output projection, and the graph's outputs. */
  function finishGraph(last: string, embeddingTable: string): DecoderGraph {
    const final = rmsNorm(last, 'model.norm.weight');
    // Tied embeddings: float exports multiply by the table itself; 4-bit exports quantize a copy as lm_head.
    const logits = shape.untiedOutput
      ? linear(final, 'lm_head.weight')
      : quantized
        ? linear(final, 'model.embed_tokens.weight', 'lm_head.weight')
        : graph.op('MatMul', [final, graph.op('Transpose', [embeddingTable], { perm: [1, 0] })]);
    graph.addNode('Identity', [logits], ['logits']);

    graph.addOutput('logits', activation, ['batch_size', 'sequence_length', shape.vocabularySize]);
    for (let layer = 0; layer < shape.layers; layer++) {
      for (const kind of ['key', 'value']) graph.addOutput(`present.${layer}.${kind}`, activation, ['batch_size', keyValueHeads, 'total_sequence_length', headDimension]);
    }
    const opsets: Record<string, number> = { '': 17, 'com.microsoft': 1 };
    return { model: createModel(graph.build(), { opsets, producerName: 'honnx models synth' }), weights };
  }

  /**
   * onnxruntime-genai's decoder: per layer one packed query/key/value projection into com.microsoft
   * GroupQueryAttention, which applies the rotary embedding from cos/sin caches, appends to the cache and attends
   * (`seqlens_k` and `total_sequence_length` computed from the mask, as the genai builder does). LongRoPE picks the
   * short or the long caches with an If on the total length, as genai's multi-cache does.
   */
  function finishGroupQueryAttentionGraph(): DecoderGraph {
    const past = addPastInputs();
    const embeddingTable = plainTensor('model.embed_tokens.weight');
    let residual = graph.op('Gather', [embeddingTable, inputIds], { axis: 0 });

    const seqlensK = graph.op('Cast', [graph.op('Sub', [graph.op('ReduceSum', [attentionMask, int64([1])], { keepdims: 0 }), int64([1], [])])], { to: DataType.INT32 });
    const totalLength = graph.op('Cast', [dimension(attentionMask, 1)], { to: DataType.INT32 });
    const [cosine, sine] = addRotaryCaches(totalLength);

    for (let layer = 0; layer < shape.layers; layer++) {
      const prefix = `model.layers.${layer}`;
      const packed = linear(rmsNorm(residual, `${prefix}.input_layernorm.weight`), `${prefix}.self_attn.qkv_proj.weight`);
      const [attended] = graph.addNode(
        'GroupQueryAttention',
        [packed, '', '', past[layer].key, past[layer].value, seqlensK, totalLength, cosine, sine],
        ['', `present.${layer}.key`, `present.${layer}.value`].map((name) => name || graph.freshName('gqa_output')),
        { num_heads: heads, kv_num_heads: keyValueHeads, do_rotary: 1, rotary_interleaved: 0, scale: { float: 1 / Math.sqrt(headDimension) } },
        { domain: 'com.microsoft' },
      );
      residual = addFeedForward(graph.op('Add', [residual, linear(attended, `${prefix}.self_attn.o_proj.weight`)]), prefix);
    }
    return finishGraph(residual, embeddingTable);
  }

  /** cos/sin caches [positions, head_dim / 2]; with LongRoPE, the long ones once the total length passes the original context. */
  function addRotaryCaches(totalLength: string): [string, string] {
    const half = headDimension / 2;
    const store = (name: string, values: Float32Array, positions: number) =>
      activation === 'float16' ? graph.addInitializer(name, toFloat16Array(values), [positions, half], 'float16') : graph.addInitializer(name, values, [positions, half]);
    const rope = shape.longRope;
    if (!rope) throw new Error('the GroupQueryAttention layout is written for LongRoPE models (phi3)');
    const small = computeLongRopeCaches(shape, 'short', rope.originalMaxPositions);
    const large = computeLongRopeCaches(shape, 'long', shape.maxPositions);
    const names = {
      smallCos: store('cos_cache_small', small.cos, rope.originalMaxPositions),
      smallSin: store('sin_cache_small', small.sin, rope.originalMaxPositions),
      largeCos: store('cos_cache_large', large.cos, shape.maxPositions),
      largeSin: store('sin_cache_large', large.sin, shape.maxPositions),
    };
    const branch = (branchName: string, cos: string, sin: string) => {
      const branchGraph = new GraphBuilder(branchName);
      branchGraph.addNode('Identity', [cos], [`${branchName}_cos`]);
      branchGraph.addNode('Identity', [sin], [`${branchName}_sin`]);
      branchGraph.addOutput(`${branchName}_cos`, activation, ['cache_positions', half]);
      branchGraph.addOutput(`${branchName}_sin`, activation, ['cache_positions', half]);
      return branchGraph.build();
    };
    const longer = graph.op('Greater', [totalLength, graph.addInitializer(graph.freshName('original_context'), Int32Array.of(rope.originalMaxPositions), [], 'int32')]);
    const [cos, sin] = graph.addNode('If', [longer], ['cos_cache', 'sin_cache'], {
      then_branch: { graph: branch('long_caches', names.largeCos, names.largeSin) },
      else_branch: { graph: branch('short_caches', names.smallCos, names.smallSin) },
    });
    return [cos, sin];
  }
}
