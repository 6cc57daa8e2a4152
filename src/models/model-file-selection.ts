import type { ModelVariant } from './model-bundle.ts';

export const MODEL_VARIANTS: readonly ModelVariant[] = ['fp32', 'fp16', 'int8', 'uint8', 'q8', 'q4', 'q4f16'];

// Longest first, so that "_q4f16" is not read as "_q4" followed by "f16".
const VARIANT_SUFFIXES: readonly [string, ModelVariant][] = [
  ['_quantized', 'q8'],
  ['_q4f16', 'q4f16'],
  ['_uint8', 'uint8'],
  ['_int8', 'int8'],
  ['_fp16', 'fp16'],
  ['_q4', 'q4'],
];

export function isModelVariant(value: string): value is ModelVariant {
  return (MODEL_VARIANTS as readonly string[]).includes(value);
}

export interface GraphFile {
  /** "model", "encoder_model", "decoder_model_merged", ... */
  base: string;
  variant: ModelVariant;
  /** The .onnx file this path belongs to (itself, or the graph whose external data it holds). */
  graphPath: string;
  externalData: boolean;
}

const GRAPH_PATH = /^onnx\/([^/]+?)\.onnx((?:_data|\.data)(?:_\d+)?)?$/;
/** Variants exporters publish that honnx does not load (bitsandbytes 4-bit needs MatMulBnb4): never selected. */
const FOREIGN_SUFFIXES = ['_bnb4'];

/** Reads `onnx/decoder_model_merged_q4.onnx` (or its external data `..._q4.onnx_data`) as base + variant. */
export function parseGraphPath(path: string): GraphFile | undefined {
  const match = GRAPH_PATH.exec(path);
  if (!match) return undefined;
  const stem = match[1];
  if (FOREIGN_SUFFIXES.some((ending) => stem.endsWith(ending))) return undefined;
  const suffix = VARIANT_SUFFIXES.find(([ending]) => stem.endsWith(ending));
  return {
    base: suffix ? stem.slice(0, -suffix[0].length) : stem,
    variant: suffix ? suffix[1] : 'fp32',
    graphPath: `onnx/${stem}.onnx`,
    externalData: match[2] !== undefined,
  };
}

/**
 * Files at the top of a model folder that honnx may read: configuration, tokenizer and featurizer JSON, and the
 * chat template. Vocabulary text files, other frameworks' weights and documentation are not needed.
 */
const NEEDED = /^(.+\.json|chat_template\.jinja)$/;
/** JSON files that only test or evaluate a model. */
const NOT_NEEDED = /^(sanity|eval_scores|eval_results|all_results|train_results|trainer_state)\.json$/;

/** Graphs a runner never opens when another graph of the same model covers them. */
const SUPERSEDED_BY_MERGED = new Set(['decoder_model', 'decoder_with_past_model']);

/**
 * The files a task needs from a model repository, in one variant: the configuration, tokenizer and featurizer
 * files at the top level, and the ONNX graphs of that variant with their external data. Weights in other formats
 * (PyTorch, safetensors), other variants and documentation are left out.
 */
export function selectModelFiles(paths: readonly string[], variant: ModelVariant): { files: string[]; graphs: string[] } {
  const topLevel = paths.filter((path) => !path.includes('/') && NEEDED.test(path) && !NOT_NEEDED.test(path));
  const graphFiles = paths.map((path) => ({ path, graph: parseGraphPath(path) })).filter((entry) => entry.graph?.variant === variant);
  const bases = new Set(graphFiles.map((entry) => entry.graph!.base));
  const wanted = graphFiles.filter((entry) => !(bases.has('decoder_model_merged') && SUPERSEDED_BY_MERGED.has(entry.graph!.base)));
  const graphs = wanted.filter((entry) => !entry.graph!.externalData).map((entry) => entry.path);
  return { files: [...topLevel.sort(), ...wanted.map((entry) => entry.path).sort()], graphs: graphs.sort() };
}

/** The variants a repository offers, from its graph file names. */
export function listVariants(paths: readonly string[]): ModelVariant[] {
  const found = new Set(paths.map((path) => parseGraphPath(path)).filter((graph) => graph && !graph.externalData).map((graph) => graph!.variant));
  return MODEL_VARIANTS.filter((variant) => found.has(variant));
}
