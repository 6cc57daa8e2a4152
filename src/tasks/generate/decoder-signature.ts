import type { EngineSession, ValueMetadata } from '../../engine/engine.ts';
import { countCacheLayers, createEmptyPast, listPastInputs, PAST_PREFIX, presentNameOf, readDecoderCacheShape } from './past-key-values.ts';

/**
 * What a causal LM's graph takes and gives, read from its inputs and outputs rather than its file name: the runner
 * fills every input it knows and refuses a graph with any other, so an export it cannot drive fails at load.
 */
export interface DecoderSignature {
  readonly pastInputs: readonly ValueMetadata[];
  /** `present.*` outputs, in the order of `pastInputs`. */
  readonly presentNames: readonly string[];
  readonly hasCache: boolean;
  /** Every input the graph declares. */
  readonly declared: ReadonlySet<string>;
  /** Rows of different lengths can share a run: per-row masks and positions, and a batch axis the export left free. */
  readonly canBatch: boolean;
  /** `num_logits_to_keep` / `logits_to_keep`, where the export can compute the last position's logits alone. */
  readonly logitsToKeepInput?: string;
  /** Element type of the cache entries (fp16 and q4f16 exports keep a float16 cache). */
  readonly cacheType: 'float32' | 'float16';
  /** Key/value heads and head width of one cache entry. */
  readonly cacheHeads: number;
  readonly cacheHeadDimension: number;
  /** The vocabulary, where the logits' last axis is fixed or config.json gives it. */
  readonly vocabulary?: number;
  readonly logitsType: 'float32' | 'float16';
}

/** The inputs the decoder runner fills, besides `past_key_values.*`. */
export const DECODER_INPUTS = [
  'input_ids',
  'attention_mask',
  'position_ids',
  'use_cache_branch',
  'cache_position',
  'num_logits_to_keep',
  'logits_to_keep',
  'seqlens_k',
  'total_sequence_length',
] as const;

const KNOWN_INPUTS = new Set<string>(DECODER_INPUTS);

function readVocabulary(logits: ValueMetadata, config: Record<string, unknown>): number | undefined {
  const last = logits.shape[logits.shape.length - 1];
  if (typeof last === 'number' && last > 0) return last;
  return typeof config.vocab_size === 'number' && config.vocab_size > 0 ? config.vocab_size : undefined;
}

const floatType = (type: string): 'float32' | 'float16' => (type === 'float16' ? 'float16' : 'float32');

/** Reads and checks a causal LM's signature; the error names the input or output that is missing or unknown. */
export function readDecoderSignature(session: EngineSession, config: Record<string, unknown>): DecoderSignature {
  const names = session.inputs.map((input) => input.name);
  const declared = new Set(names);
  if (!declared.has('input_ids')) throw new Error(`the graph has no input_ids input, which a causal language model needs (it takes ${names.join(', ')})`);
  const logits = session.outputs.find((output) => output.name === 'logits');
  if (!logits) throw new Error(`the graph has no logits output, which a causal language model needs (it gives ${session.outputs.map((output) => output.name).join(', ')})`);
  const unknown = names.filter((name) => !KNOWN_INPUTS.has(name) && !name.startsWith(PAST_PREFIX));
  if (unknown.length > 0) throw new Error(`unsupported model inputs: ${unknown.join(', ')} (honnx fills ${DECODER_INPUTS.join(', ')} and past_key_values.*)`);
  const pastInputs = listPastInputs(session.inputs);
  const outputNames = new Set(session.outputs.map((output) => output.name));
  const presentNames = pastInputs.map((input) => presentNameOf(input.name));
  const missingPresent = presentNames.filter((name) => !outputNames.has(name));
  if (pastInputs.length > 0 && missingPresent.length > 0) {
    throw new Error(`the model takes past_key_values but does not return ${missingPresent.slice(0, 3).join(', ')}${missingPresent.length > 3 ? ', ...' : ''}`);
  }
  if (pastInputs.length > 0 && countCacheLayers(pastInputs) * 2 !== pastInputs.length) {
    throw new Error(`expected a key and a value per layer, got ${pastInputs.length} cache inputs`);
  }
  const hasCache = pastInputs.length > 0;
  const fixedBatch = session.inputs.some(
    (input) => (input.name === 'input_ids' || input.name.startsWith(PAST_PREFIX)) && typeof input.shape[0] === 'number' && input.shape[0] !== -1,
  );
  // GroupQueryAttention's seqlens_k counts each row from its first position: rows cannot be left-padded.
  const canBatch = hasCache && declared.has('attention_mask') && declared.has('position_ids') && !declared.has('seqlens_k') && !fixedBatch;
  const cacheShape = readDecoderCacheShape(config);
  const entry = hasCache ? createEmptyPast(pastInputs[0], cacheShape) : undefined;
  return {
    pastInputs,
    presentNames,
    hasCache,
    declared,
    canBatch,
    logitsToKeepInput: ['num_logits_to_keep', 'logits_to_keep'].find((name) => declared.has(name)),
    cacheType: entry?.type === 'float16' ? 'float16' : 'float32',
    cacheHeads: entry?.dims[1] ?? cacheShape.heads,
    cacheHeadDimension: entry?.dims[3] ?? cacheShape.headDimension,
    vocabulary: readVocabulary(logits, config),
    logitsType: floatType(logits.type),
  };
}
