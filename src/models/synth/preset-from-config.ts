import { SYNTH_PRESETS, type DecoderShape, type SynthPreset } from './synth-presets.ts';

/** config.json `model_type`s whose graph `honnx models synth` can write, and the preset each one starts from. */
const FAMILY_PRESETS: Record<string, string> = { qwen3: 'qwen3-0.6b', llama: 'llama-3.2-1b' };

/** Tokens each family's npm tokenizer holds: a config.json with a smaller vocabulary cannot use it. */
const TOKENIZER_SIZES: Record<string, number> = { qwen3: 151_669, llama: 128_256 };

function readPositiveInteger(config: Record<string, unknown>, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`config.json: "${key}" must be a positive integer (got ${JSON.stringify(config[key])})`);
  }
  return value;
}

/**
 * A synth preset with the shapes of a hub model's config.json (Qwen3 or Llama: every size of those families), so a
 * model of that exact size can be written with random weights from its config alone, before its weights are fetched.
 * Generation config and tokenizer come from the family's preset.
 */
export function presetFromConfig(config: Record<string, unknown>, name: string): SynthPreset {
  const modelType = String(config.model_type);
  const base = SYNTH_PRESETS[FAMILY_PRESETS[modelType] ?? ''];
  if (!base) {
    throw new Error(`config.json: model_type "${modelType}" has no synthetic graph; supported: ${Object.keys(FAMILY_PRESETS).join(', ')}`);
  }
  const hiddenSize = readPositiveInteger(config, 'hidden_size');
  const heads = readPositiveInteger(config, 'num_attention_heads');
  const vocabularySize = readPositiveInteger(config, 'vocab_size');
  if (vocabularySize < TOKENIZER_SIZES[modelType]) {
    throw new Error(`config.json: vocab_size ${vocabularySize} is smaller than the ${modelType} tokenizer's ${TOKENIZER_SIZES[modelType]} tokens`);
  }
  const shape: DecoderShape = {
    ...base.shape,
    layers: readPositiveInteger(config, 'num_hidden_layers'),
    hiddenSize,
    intermediateSize: readPositiveInteger(config, 'intermediate_size'),
    heads,
    keyValueHeads: readPositiveInteger(config, 'num_key_value_heads', heads),
    headDimension: readPositiveInteger(config, 'head_dim', hiddenSize / heads),
    vocabularySize,
    ropeTheta: typeof config.rope_theta === 'number' ? config.rope_theta : base.shape.ropeTheta,
    rmsNormEpsilon: typeof config.rms_norm_eps === 'number' ? config.rms_norm_eps : base.shape.rmsNormEpsilon,
    maxPositions: readPositiveInteger(config, 'max_position_embeddings', base.shape.maxPositions),
  };
  const scaling = config.rope_scaling as DecoderShape['ropeScaling'] | null | undefined;
  if (scaling && scaling.rope_type !== 'llama3') throw new Error(`config.json: rope_scaling "${scaling.rope_type}" is not supported (llama3 is)`);
  shape.ropeScaling = scaling ?? undefined;
  if ((heads * shape.headDimension) % 32 !== 0 || shape.intermediateSize % 32 !== 0 || hiddenSize % 32 !== 0) {
    throw new Error('config.json: hidden_size, intermediate_size and num_attention_heads × head_dim must be multiples of 32 (the 4-bit block)');
  }
  // An untied model (tie_word_embeddings false) is written tied: its 4-bit variants read the same bytes per token
  // (they quantize a copy of the table as lm_head either way); its float ones hold one table fewer.
  return { ...base, name, imitates: typeof config._name_or_path === 'string' ? config._name_or_path : `a ${modelType} config.json`, shape, config: { ...base.config, ...config } };
}
