import type { EngineSession } from '../../engine/engine.ts';
import type { ModelBundle } from '../../models/model-bundle.ts';
import { readJson } from '../../models/model-files.ts';
import { createEncoderFeeds } from '../batch-feeds.ts';
import { createClassifierTextEncoder, type ClassifierTextEncoder } from '../classify/text-encoder.ts';
import { InputError } from '../input-error.ts';
import { normalizeVector, poolRow, type Pooling } from './pooling.ts';

/** An encoder prepared to turn texts into vectors. */
export interface Embedder {
  readonly session: EngineSession;
  readonly textEncoder: ClassifierTextEncoder;
  /** The graph output holding one vector per token (`last_hidden_state`, `token_embeddings`). */
  readonly outputName: string;
  readonly dimensions: number | undefined;
  /** The model's own pooling (sentence-transformers' `1_Pooling/config.json`), mean when it says none. */
  readonly defaultPooling: Pooling;
}

/** How `embedTexts` pools, normalizes, cuts and bounds its texts. */
export interface EmbedOptions {
  pooling?: Pooling;
  /** Scale each vector to unit length (default true). */
  normalize?: boolean;
  truncate?: boolean;
  maxTokens?: number;
  /** Keep only the first n dimensions (Matryoshka-style), normalized again when `normalize`. */
  dimensions?: number;
}

/** The vectors of a list of texts, in order, and how many tokens they were. */
export interface Embeddings {
  vectors: number[][];
  /** Tokens the texts were, special tokens included. */
  tokens: number;
  /** Tokens of each text, in order. */
  textTokens: number[];
}

const TOKEN_OUTPUTS = ['last_hidden_state', 'token_embeddings'];

/** sentence-transformers' pooling flags, in the order its Pooling module checks them. */
async function readModelPooling(model: ModelBundle): Promise<Pooling> {
  const file = '1_Pooling/config.json';
  if (!(await model.files.has(file))) return 'mean';
  const config = await readJson<Record<string, unknown>>(model.files, file);
  if (config.pooling_mode_cls_token === true) return 'cls';
  if (config.pooling_mode_lasttoken === true) return 'last_token';
  return 'mean';
}

/** Opens an encoder (`onnx/model.onnx` with a per-token output) and its tokenizer for embedding. */
export async function createEmbedder(model: ModelBundle): Promise<Embedder> {
  const session = await model.openSession();
  const output = session.outputs.find((candidate) => TOKEN_OUTPUTS.includes(candidate.name)) ?? session.outputs.find((candidate) => candidate.shape.length === 3);
  if (!output) {
    await session.release();
    throw new Error(`model ${model.name} has no per-token output to embed with (looked for ${TOKEN_OUTPUTS.join(', ')} or any [batch, sequence, hidden] output)`);
  }
  const size = output.shape[2];
  return {
    session,
    textEncoder: await createClassifierTextEncoder(model),
    outputName: output.name,
    dimensions: typeof size === 'number' ? size : undefined,
    defaultPooling: await readModelPooling(model),
  };
}

/**
 * Most texts one engine run takes: a run's memory is rows × longest row × hidden size of float32 (32 rows of 512
 * tokens of a 384-wide encoder are 25 MB of output alone), so a long list is cut into runs of this many.
 */
export const MAX_EMBED_RUN_ROWS = 32;

/** The vectors of `texts`, in order, from as few runs as `MAX_EMBED_RUN_ROWS` allows, each padded to its longest text. */
export async function embedTexts(embedder: Embedder, texts: readonly string[], options: EmbedOptions = {}): Promise<Embeddings> {
  const rows = texts.map((text) => embedder.textEncoder.encode(text, { truncate: options.truncate ?? false, maxTokens: options.maxTokens ?? Infinity }));
  const vectors: number[][] = [];
  for (let first = 0; first < rows.length; first += MAX_EMBED_RUN_ROWS) {
    vectors.push(...(await embedRows(embedder, rows.slice(first, first + MAX_EMBED_RUN_ROWS), options)));
  }
  const textTokens = rows.map((row) => row.length);
  return { vectors, tokens: textTokens.reduce((sum, count) => sum + count, 0), textTokens };
}

/** One run over encoded rows padded to the longest: each row pools only its own tokens. */
async function embedRows(embedder: Embedder, rows: readonly (readonly number[])[], options: EmbedOptions): Promise<number[][]> {
  const outputs = await embedder.session.run(createEncoderFeeds(embedder.session, rows, embedder.textEncoder.padId), [embedder.outputName]);
  const hidden = outputs[embedder.outputName];
  const size = hidden.dims[2];
  if (options.dimensions !== undefined && options.dimensions > size) {
    hidden.dispose?.();
    throw new InputError('invalid', `dimensions is ${options.dimensions}, over this model's ${size}`);
  }
  const pooling = options.pooling ?? embedder.defaultPooling;
  const normalize = options.normalize ?? true;
  const vectors = rows.map((row, index) => {
    let vector = poolRow(hidden.data as Float32Array, hidden.dims, index, row.length, pooling);
    if (normalize) vector = normalizeVector(vector);
    if (options.dimensions !== undefined) {
      vector = vector.slice(0, options.dimensions);
      if (normalize) vector = normalizeVector(vector);
    }
    return vector;
  });
  hidden.dispose?.();
  return vectors;
}
