import type { Dimension, Tensor, ValueMetadata } from '../../engine/engine.ts';

export const PAST_PREFIX = 'past_key_values.';
const PRESENT_PREFIX = 'present.';

/** Attention heads and width of one cache entry, for exports whose metadata leaves them symbolic. */
export interface CacheShape {
  heads: number;
  headDimension: number;
}

export function listPastInputs(inputs: readonly ValueMetadata[]): ValueMetadata[] {
  return inputs.filter((input) => input.name.startsWith(PAST_PREFIX));
}

/** `past_key_values.3.decoder.key` → `present.3.decoder.key`: the output that updates a cache input. */
export function presentNameOf(pastName: string): string {
  return PRESENT_PREFIX + pastName.slice(PAST_PREFIX.length);
}

/** `present.3.decoder.key` → `past_key_values.3.decoder.key`, or undefined for outputs that are not cache. */
export function pastNameOf(outputName: string): string | undefined {
  return outputName.startsWith(PRESENT_PREFIX) ? PAST_PREFIX + outputName.slice(PRESENT_PREFIX.length) : undefined;
}

/** The number of layers, from the highest index in `past_key_values.<n>.*`. */
export function countCacheLayers(pastInputs: readonly ValueMetadata[]): number {
  let layers = 0;
  for (const input of pastInputs) {
    const index = Number(input.name.slice(PAST_PREFIX.length).split('.')[0]);
    if (Number.isInteger(index)) layers = Math.max(layers, index + 1);
  }
  return layers;
}

function isSequenceAxis(dimension: Dimension): boolean {
  return typeof dimension === 'string' && /past|seq|length/i.test(dimension);
}

/**
 * An empty cache entry: batch 1, sequence 0, and heads and width from the metadata, or from the config
 * where the export left them symbolic. Hugging Face exports lay entries out as [batch, heads, sequence, width].
 */
export function createEmptyPast(input: ValueMetadata, fallback: CacheShape): Tensor {
  const shape = input.shape.length === 4 ? input.shape : ['batch_size', 'heads', 'past_sequence_length', 'head_dim'];
  const dims = shape.map((dimension, axis) => {
    if (typeof dimension === 'number') return dimension;
    if (axis === 0) return 1;
    if (isSequenceAxis(dimension) || axis === 2) return 0;
    return axis === 1 ? fallback.heads : fallback.headDimension;
  });
  if (input.type === 'float16') return { type: 'float16', data: new Uint16Array(0), dims };
  return { type: 'float32', data: new Float32Array(0), dims };
}

function readPositive(config: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = config[key];
    if (typeof value === 'number' && value > 0) return value;
  }
  return undefined;
}

/** Cache shape of a decoder-only model from config.json (Llama/Qwen key-value heads, GPT-2's n_head/n_embd). */
export function readDecoderCacheShape(config: Record<string, unknown>): CacheShape {
  const attentionHeads = readPositive(config, 'num_attention_heads', 'n_head') ?? 1;
  const heads = readPositive(config, 'num_key_value_heads') ?? attentionHeads;
  const width = readPositive(config, 'hidden_size', 'n_embd', 'd_model') ?? attentionHeads;
  return { heads, headDimension: readPositive(config, 'head_dim') ?? width / attentionHeads };
}

/** Cache shape of an encoder-decoder's decoder from config.json (T5's num_heads/d_kv, BART's decoder_attention_heads). */
export function readEncoderDecoderCacheShape(config: Record<string, unknown>): CacheShape {
  const heads = readPositive(config, 'num_heads', 'decoder_attention_heads', 'num_attention_heads') ?? 1;
  const width = readPositive(config, 'd_model', 'hidden_size') ?? heads;
  return { heads, headDimension: readPositive(config, 'd_kv', 'head_dim') ?? width / heads };
}
