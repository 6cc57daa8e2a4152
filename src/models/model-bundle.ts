import type { Engine, EngineSession, SessionOptions } from '../engine/engine.ts';
import { createTokenizer, type TextTokenizer } from '../text/tokenizer.ts';
import { readJson, readOptionalJson, type ModelFiles } from './model-files.ts';

/** Quantization variants, named as in the Hugging Face ONNX exports (`onnx/model_q4.onnx`, ...). */
export type ModelVariant = 'fp32' | 'fp16' | 'int8' | 'uint8' | 'q8' | 'q4' | 'q4f16';

const VARIANT_SUFFIX: Record<ModelVariant, string> = {
  fp32: '',
  fp16: '_fp16',
  int8: '_int8',
  uint8: '_uint8',
  q8: '_quantized',
  q4: '_q4',
  q4f16: '_q4f16',
};

/** `onnx/<base><suffix>.onnx` for a graph such as "model", "encoder_model" or "decoder_model_merged". */
export function onnxPath(base: string, variant: ModelVariant = 'fp32'): string {
  return `onnx/${base}${VARIANT_SUFFIX[variant]}.onnx`;
}

/** A model's `config.json`: the fields honnx reads are typed, the rest kept as they are. */
export type ModelConfig = Record<string, unknown> & {
  model_type?: string;
  architectures?: string[];
  id2label?: Record<string, string>;
};

/** A model's configuration, tokenizer and a way to open its graphs, before any task has chosen which. */
export interface ModelBundle {
  readonly name: string;
  readonly files: ModelFiles;
  readonly config: ModelConfig;
  readonly tokenizerConfig: Record<string, unknown>;
  readonly generationConfig?: Record<string, unknown>;
  /** Absent for models with their own featurizer (fastText) instead of a tokenizer.json. */
  readonly tokenizer?: TextTokenizer;
  readonly variant: ModelVariant;
  readonly engine: Engine;
  /** Where a graph's file is: `onnx/<graph><variant>.onnx`, or in an onnxruntime-genai folder the decoder genai_config.json names. */
  graphPath(graph?: string): string;
  /** onnxruntime-genai's genai_config.json, where the folder is one of its builds. */
  readonly genaiConfig?: GenaiConfig;
  /**
   * Opens `onnx/<graph>.onnx` in the chosen variant (the genai decoder, in a genai folder); `options` add to the
   * bundle's session options for this graph.
   */
  openSession(graph?: string, options?: SessionOptions): Promise<EngineSession>;
}

/** The part of onnxruntime-genai's genai_config.json that honnx reads. */
export interface GenaiConfig {
  model: { context_length?: number; decoder: { filename: string } };
}

/** The genai decoder's file for the causal LM graph ("model"); other graphs keep the optimum layout. */
function genaiGraphPath(genai: GenaiConfig | undefined, graph: string): string | undefined {
  return genai && graph === 'model' ? genai.model.decoder.filename : undefined;
}

/** Which quantization of a model to load, and options for its sessions. */
export interface LoadModelOptions {
  variant?: ModelVariant;
  session?: SessionOptions;
}

/** Reads a model folder's configuration and tokenizer through `files`; its ONNX sessions open on demand with `engine`. */
export async function loadModelBundle(files: ModelFiles, engine: Engine, options: LoadModelOptions = {}): Promise<ModelBundle> {
  const variant = options.variant ?? 'fp32';
  const config = await readJson<ModelConfig>(files, 'config.json');
  const tokenizerConfig = (await readOptionalJson(files, 'tokenizer_config.json')) ?? {};
  const generationConfig = await readOptionalJson(files, 'generation_config.json');
  const genaiConfig = await readOptionalJson<GenaiConfig>(files, 'genai_config.json');
  if (genaiConfig && typeof genaiConfig.model?.decoder?.filename !== 'string') throw new Error(`model ${files.name}: genai_config.json names no model.decoder.filename`);
  const graphPath = (graph = 'model') => genaiGraphPath(genaiConfig, graph) ?? onnxPath(graph, variant);
  const tokenizer = (await files.has('tokenizer.json'))
    ? createTokenizer(await readJson<object>(files, 'tokenizer.json'), tokenizerConfig, config)
    : undefined;
  return {
    name: files.name,
    files,
    config,
    tokenizerConfig,
    generationConfig,
    tokenizer,
    variant,
    engine,
    genaiConfig,
    graphPath,
    async openSession(graph = 'model', graphOptions?: SessionOptions) {
      const path = graphPath(graph);
      if (!(await files.has(path))) throw new Error(`model ${files.name} has no ${path} (looked in ${files.location})`);
      const model = files.localPath && engine.acceptsPaths ? files.localPath(path) : await files.readBytes(path);
      return engine.createSession(model, graphOptions ? { ...options.session, ...graphOptions } : options.session);
    },
  };
}

/** Label names from config.json `id2label`, in id order. */
export function readLabels(config: ModelConfig): string[] {
  const entries = Object.entries(config.id2label ?? {}).map(([id, label]) => [Number(id), label] as const);
  entries.sort((a, b) => a[0] - b[0]);
  return entries.map(([, label]) => label);
}

export function requireTokenizer(model: ModelBundle): TextTokenizer {
  if (!model.tokenizer) throw new Error(`model ${model.name} has no tokenizer.json (looked in ${model.files.location})`);
  return model.tokenizer;
}
