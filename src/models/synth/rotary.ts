import type { DecoderShape } from './synth-presets.ts';

/**
 * The rotary embedding's inverse frequencies θ^(-2i/d), with Llama 3's long-context scaling where the config asks
 * for it (transformers' `_compute_llama3_parameters`).
 */
export function computeInverseFrequencies(shape: DecoderShape): Float32Array {
  const count = shape.headDimension / 2;
  const frequencies = new Float32Array(count);
  const factors = computeRopeFactors(shape);
  for (let index = 0; index < count; index++) {
    frequencies[index] = 1 / shape.ropeTheta ** ((2 * index) / shape.headDimension) / factors[index];
  }
  return frequencies;
}

/**
 * What each base frequency is divided by: 1 without scaling. llama.cpp reads the same numbers from GGUF's
 * `rope_freqs.weight`, as its converter writes them.
 */
export function computeRopeFactors(shape: DecoderShape): Float32Array {
  const count = shape.headDimension / 2;
  const factors = new Float32Array(count).fill(1);
  const scaling = shape.ropeScaling;
  if (!scaling) return factors;
  const lowWavelength = scaling.original_max_position_embeddings / scaling.low_freq_factor;
  const highWavelength = scaling.original_max_position_embeddings / scaling.high_freq_factor;
  for (let index = 0; index < count; index++) {
    const frequency = 1 / shape.ropeTheta ** ((2 * index) / shape.headDimension);
    const wavelength = (2 * Math.PI) / frequency;
    if (wavelength < highWavelength) factors[index] = 1;
    else if (wavelength > lowWavelength) factors[index] = scaling.factor;
    else {
      const smooth = (scaling.original_max_position_embeddings / wavelength - scaling.low_freq_factor) / (scaling.high_freq_factor - scaling.low_freq_factor);
      factors[index] = 1 / ((1 - smooth) / scaling.factor + smooth);
    }
  }
  return factors;
}

/**
 * GroupQueryAttention's cos and sin caches [positions, head_dim / 2] for Phi-3's LongRoPE, with the short or the
 * long factors (onnxruntime-genai's `make_rotary_embedding_multi_cache`): frequencies divided per dimension, the
 * values scaled by sqrt(1 + ln(max / original) / ln(original)).
 */
export function computeLongRopeCaches(shape: DecoderShape, which: 'short' | 'long', positions: number): { cos: Float32Array; sin: Float32Array } {
  const rope = shape.longRope;
  if (!rope) throw new Error('computeLongRopeCaches needs a LongRoPE shape');
  const half = shape.headDimension / 2;
  const factors = resampleFactors(which === 'short' ? rope.shortFactor : rope.longFactor, half);
  const scale = shape.maxPositions / rope.originalMaxPositions;
  const magnitude = scale <= 1 ? 1 : Math.sqrt(1 + Math.log(scale) / Math.log(rope.originalMaxPositions));
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let index = 0; index < half; index++) {
    const frequency = 1 / (factors[index] * shape.ropeTheta ** ((2 * index) / shape.headDimension));
    for (let position = 0; position < positions; position++) {
      cos[position * half + index] = Math.cos(position * frequency) * magnitude;
      sin[position * half + index] = Math.sin(position * frequency) * magnitude;
    }
  }
  return { cos, sin };
}

/** The published per-dimension factors, picked evenly where a test model's head is narrower than the real one's. */
function resampleFactors(factors: readonly number[], count: number): number[] {
  if (factors.length === count) return [...factors];
  return Array.from({ length: count }, (_, index) => factors[Math.floor((index * factors.length) / count)]);
}
