import type { DecoderShape } from './synth-presets.ts';

/** One weight of the model, named and shaped as in the PyTorch checkpoint (a linear layer is [out, in]). */
export interface WeightSpec {
  name: string;
  dims: readonly number[];
  role: 'embedding' | 'linear' | 'norm';
  std: number;
  mean: number;
}

/**
 * How large the random weights are. With tied embeddings the token just read stays in the residual stream and its
 * own row scores highest unless the layers outweigh it; then the logits of random weights are nearly flat at the
 * top, and an engine's rounding (llama.cpp's 8-bit activations) flips close calls. A branch gain of 1.5 is the
 * balance measured on the 2-layer, hidden-64 presets: 20-30% of teacher-forced predictions are not the input
 * token, and llama.cpp agrees on 255-256 of 256 (gain 1: 3% non-echo; gain 2: 60%, but 98.8% agreement).
 */
const EMBEDDING_STD = 1;
const NORM_STD = 0.1;
/** Gain of the attention output and MLP down projections, the residual branches. */
const BRANCH_GAIN = 1.5;
/**
 * The layer count at which BRANCH_GAIN applies as is; deeper models use BRANCH_GAIN · (2 / layers)^0.1. Measured on
 * the full 28-layer qwen3-0.6b q4 against llama.cpp (256 teacher-forced positions): gain 1.5 → 250/256 agree,
 * 120 not echoes; 1.15 (this rule) → 254/256, 17; 0.78 → 256/256, 1; 0.4 → 256/256, 0.
 */
const REFERENCE_LAYERS = 2;

export function listDecoderWeights(shape: DecoderShape): WeightSpec[] {
  const { hiddenSize, heads, keyValueHeads, headDimension, intermediateSize } = shape;
  // More layers add more branches to the residual stream, and a wider one favours the echo: the gain falls slowly.
  const branchGain = BRANCH_GAIN * (REFERENCE_LAYERS / shape.layers) ** 0.1;
  const linear = (name: string, out: number, input: number, gain = 1): WeightSpec => ({
    name,
    dims: [out, input],
    role: 'linear',
    std: gain / Math.sqrt(input),
    mean: 0,
  });
  const norm = (name: string, size: number): WeightSpec => ({ name, dims: [size], role: 'norm', std: NORM_STD, mean: 1 });
  const weights: WeightSpec[] = [
    { name: 'model.embed_tokens.weight', dims: [shape.vocabularySize, hiddenSize], role: 'embedding', std: EMBEDDING_STD, mean: 0 },
  ];
  for (let layer = 0; layer < shape.layers; layer++) {
    const prefix = `model.layers.${layer}`;
    weights.push(norm(`${prefix}.input_layernorm.weight`, hiddenSize));
    // Phi-3's checkpoint holds one packed query/key/value projection, which GroupQueryAttention takes as it is.
    if (shape.family === 'phi3') weights.push(linear(`${prefix}.self_attn.qkv_proj.weight`, (heads + 2 * keyValueHeads) * headDimension, hiddenSize));
    else {
      weights.push(
        linear(`${prefix}.self_attn.q_proj.weight`, heads * headDimension, hiddenSize),
        linear(`${prefix}.self_attn.k_proj.weight`, keyValueHeads * headDimension, hiddenSize),
        linear(`${prefix}.self_attn.v_proj.weight`, keyValueHeads * headDimension, hiddenSize),
      );
    }
    weights.push(linear(`${prefix}.self_attn.o_proj.weight`, hiddenSize, heads * headDimension, branchGain));
    if (shape.queryKeyNorm) weights.push(norm(`${prefix}.self_attn.q_norm.weight`, headDimension), norm(`${prefix}.self_attn.k_norm.weight`, headDimension));
    weights.push(
      norm(`${prefix}.post_attention_layernorm.weight`, hiddenSize),
      linear(`${prefix}.mlp.gate_proj.weight`, intermediateSize, hiddenSize),
      linear(`${prefix}.mlp.up_proj.weight`, intermediateSize, hiddenSize),
      linear(`${prefix}.mlp.down_proj.weight`, hiddenSize, intermediateSize, branchGain),
    );
  }
  weights.push(norm('model.norm.weight', hiddenSize));
  // As peaked as a tied table's logits (embedding rows have standard deviation 1).
  if (shape.untiedOutput) weights.push(linear('lm_head.weight', shape.vocabularySize, hiddenSize, Math.sqrt(hiddenSize)));
  return weights;
}

/** FNV-1a over the name, so each weight draws from its own stream and can be regenerated alone. */
function hashName(name: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < name.length; index++) hash = Math.imul(hash ^ name.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}

/**
 * The values of one weight for `seed`: uniform with the spec's mean and standard deviation, from mulberry32
 * seeded by the seed and the weight's name. The same seed gives the same bytes on every machine.
 */
export function generateWeight(spec: WeightSpec, seed: number): Float32Array {
  const count = spec.dims.reduce((product, dim) => product * dim, 1);
  const values = new Float32Array(count);
  let state = (hashName(spec.name) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
  // A uniform distribution on [-a, a] has standard deviation a / sqrt(3).
  const width = 2 * spec.std * Math.sqrt(3);
  const low = spec.mean - spec.std * Math.sqrt(3);
  for (let index = 0; index < count; index++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[index] = low + (((t ^ (t >>> 14)) >>> 0) / 4294967296) * width;
  }
  return values;
}
