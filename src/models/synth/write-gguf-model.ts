import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { generateWeight, listDecoderWeights, type WeightSpec } from './decoder-weights.ts';
import { GGML_TYPE, writeGguf, type GgufTensor, type MetadataValue } from './gguf-writer.ts';
import { packQ4_0, quantizeQ4 } from './q4-blocks.ts';
import { computeRopeFactors } from './rotary.ts';
import type { DecoderShape, SynthPreset } from './synth-presets.ts';

/** llama.cpp's names for a checkpoint weight's place in the layer (`blk.N.<name>`). */
const LAYER_TENSOR_NAMES: Record<string, string> = {
  'input_layernorm.weight': 'attn_norm.weight',
  'self_attn.q_proj.weight': 'attn_q.weight',
  'self_attn.k_proj.weight': 'attn_k.weight',
  'self_attn.v_proj.weight': 'attn_v.weight',
  'self_attn.o_proj.weight': 'attn_output.weight',
  'self_attn.q_norm.weight': 'attn_q_norm.weight',
  'self_attn.k_norm.weight': 'attn_k_norm.weight',
  'post_attention_layernorm.weight': 'ffn_norm.weight',
  'mlp.gate_proj.weight': 'ffn_gate.weight',
  'mlp.up_proj.weight': 'ffn_up.weight',
  'mlp.down_proj.weight': 'ffn_down.weight',
};

function ggufNameOf(checkpointName: string): string {
  if (checkpointName === 'model.embed_tokens.weight') return 'token_embd.weight';
  if (checkpointName === 'model.norm.weight') return 'output_norm.weight';
  const match = /^model\.layers\.(\d+)\.(.+)$/.exec(checkpointName);
  const name = match && LAYER_TENSOR_NAMES[match[2]];
  if (!name) throw new Error(`no GGUF name for ${checkpointName}`);
  return `blk.${match![1]}.${name}`;
}

/**
 * llama.cpp's Llama graph rotates interleaved pairs where the checkpoint rotates halves, so its converter reorders
 * the rows of q_proj and k_proj within each head (convert_hf_to_gguf's `permute`); Qwen3 keeps the halves (NEOX).
 */
function permuteHeadRows(values: Float32Array, heads: number, rows: number, columns: number): Float32Array {
  const headRows = rows / heads;
  const half = headRows / 2;
  const result = new Float32Array(values.length);
  for (let head = 0; head < heads; head++) {
    for (let index = 0; index < half; index++) {
      for (let pair = 0; pair < 2; pair++) {
        const source = (head * headRows + pair * half + index) * columns;
        const target = (head * headRows + index * 2 + pair) * columns;
        result.set(values.subarray(source, source + columns), target);
      }
    }
  }
  return result;
}

const floatBytes = (values: Float32Array) => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

/** The weight's values in the row order llama.cpp expects. */
function readyValues(spec: WeightSpec, shape: DecoderShape, seed: number): Float32Array {
  const values = generateWeight(spec, seed);
  if (shape.family !== 'llama') return values;
  if (spec.name.endsWith('q_proj.weight')) return permuteHeadRows(values, shape.heads, spec.dims[0], spec.dims[1]);
  if (spec.name.endsWith('k_proj.weight')) return permuteHeadRows(values, shape.keyValueHeads, spec.dims[0], spec.dims[1]);
  return values;
}

interface TokenizerJson {
  model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
  added_tokens: { id: number; content: string; special: boolean }[];
}

/** tokenizer.ggml.* for a byte-level BPE tokenizer.json, padded to the embedding's rows as llama.cpp's converter does. */
function describeTokenizer(tokenizer: TokenizerJson, vocabularySize: number): { tokens: string[]; types: number[]; merges: string[] } {
  const tokens: string[] = [];
  const types: number[] = [];
  for (const [token, id] of Object.entries(tokenizer.model.vocab)) {
    tokens[id] = token;
    types[id] = 1;
  }
  for (const added of tokenizer.added_tokens) {
    tokens[added.id] = added.content;
    types[added.id] = added.special ? 3 : 4;
  }
  for (let id = 0; id < vocabularySize; id++) {
    if (tokens[id] === undefined) {
      tokens[id] = `[PAD${id}]`;
      types[id] = 5;
    }
  }
  const merges = tokenizer.model.merges.map((merge) => (typeof merge === 'string' ? merge : merge.join(' ')));
  return { tokens: tokens.slice(0, vocabularySize), types: types.slice(0, vocabularySize), merges };
}

function readTokenId(tokenizer: TokenizerJson, content: string | undefined): number | undefined {
  return content === undefined ? undefined : tokenizer.added_tokens.find((token) => token.content === content)?.id;
}

export interface WriteGgufOptions {
  preset: SynthPreset;
  shape: DecoderShape;
  seed: number;
}

/**
 * The same model as `model_q4.onnx`, as a GGUF file for llama.cpp: every linear layer (lm_head as `output.weight`)
 * in Q4_0 from the very codes and scales MatMulNBits holds, the embedding and norms in F32. So the two files hold
 * identical weights, and any difference in their outputs is the engines' arithmetic.
 */
export async function writeGgufModel(path: string, options: WriteGgufOptions): Promise<number> {
  const { preset, shape, seed } = options;
  // llama.cpp's phi3 graph wants its packed projections and LongRoPE tensors, which this writer does not lay out.
  if (shape.family === 'phi3') throw new Error(`--gguf writes qwen3 and llama presets; ${preset.name} (phi3) has no GGUF layout here`);
  const architecture = shape.family;
  const require = createRequire(import.meta.url);
  const tokenizer = JSON.parse(await readFile(require.resolve(`${preset.tokenizer.packageName}/models/tokenizer.json`), 'utf8')) as TokenizerJson;
  const tokenizerConfig = JSON.parse(await readFile(require.resolve(`${preset.tokenizer.packageName}/models/tokenizer_config.json`), 'utf8')) as Record<string, unknown>;
  const vocabulary = describeTokenizer(tokenizer, shape.vocabularySize);
  const uint32 = (value: number): MetadataValue => ({ type: 'uint32', value });
  const float32 = (value: number): MetadataValue => ({ type: 'float32', value });
  const metadata = new Map<string, MetadataValue>([
    ['general.architecture', { type: 'string', value: architecture }],
    ['general.name', { type: 'string', value: `${preset.name} (synthetic, seed ${seed})` }],
    ['general.file_type', uint32(2)],
    [`${architecture}.context_length`, uint32(shape.maxPositions)],
    [`${architecture}.embedding_length`, uint32(shape.hiddenSize)],
    [`${architecture}.block_count`, uint32(shape.layers)],
    [`${architecture}.feed_forward_length`, uint32(shape.intermediateSize)],
    [`${architecture}.attention.head_count`, uint32(shape.heads)],
    [`${architecture}.attention.head_count_kv`, uint32(shape.keyValueHeads)],
    [`${architecture}.attention.key_length`, uint32(shape.headDimension)],
    [`${architecture}.attention.value_length`, uint32(shape.headDimension)],
    [`${architecture}.rope.dimension_count`, uint32(shape.headDimension)],
    [`${architecture}.rope.freq_base`, float32(shape.ropeTheta)],
    [`${architecture}.attention.layer_norm_rms_epsilon`, float32(shape.rmsNormEpsilon)],
    [`${architecture}.vocab_size`, uint32(shape.vocabularySize)],
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: architecture === 'qwen3' ? 'qwen2' : 'llama-bpe' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: vocabulary.tokens }],
    ['tokenizer.ggml.token_type', { type: 'int32[]', value: vocabulary.types }],
    ['tokenizer.ggml.merges', { type: 'string[]', value: vocabulary.merges }],
  ]);
  const bos = readTokenId(tokenizer, tokenizerConfig.bos_token as string | undefined) ?? (preset.config.bos_token_id as number);
  const eos = readTokenId(tokenizer, tokenizerConfig.eos_token as string | undefined);
  metadata.set('tokenizer.ggml.bos_token_id', uint32(bos));
  if (eos !== undefined) metadata.set('tokenizer.ggml.eos_token_id', uint32(eos));
  metadata.set('tokenizer.ggml.add_bos_token', { type: 'bool', value: tokenizerConfig.bos_token != null && tokenizerConfig.add_bos_token !== false });

  const tensors: GgufTensor[] = [];
  const specs = listDecoderWeights(shape);
  for (const spec of specs) {
    const name = ggufNameOf(spec.name);
    const dims = [...spec.dims].reverse();
    if (spec.role === 'linear') {
      tensors.push({ name, dims, type: GGML_TYPE.Q4_0, produce: () => packQ4_0(quantizeQ4(readyValues(spec, shape, seed), spec.dims[0], spec.dims[1])) });
    } else {
      tensors.push({ name, dims, type: GGML_TYPE.F32, produce: () => floatBytes(generateWeight(spec, seed)) });
    }
  }
  const embedding = specs.find((spec) => spec.role === 'embedding')!;
  tensors.push({
    name: 'output.weight',
    dims: [...embedding.dims].reverse(),
    type: GGML_TYPE.Q4_0,
    produce: () => packQ4_0(quantizeQ4(generateWeight(embedding, seed), embedding.dims[0], embedding.dims[1])),
  });
  if (shape.ropeScaling) tensors.push({ name: 'rope_freqs.weight', dims: [shape.headDimension / 2], type: GGML_TYPE.F32, produce: () => floatBytes(computeRopeFactors(shape)) });
  return writeGguf(path, metadata, tensors);
}
