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
