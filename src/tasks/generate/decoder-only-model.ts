import type { EngineSession, Feeds, Tensor, ValueMetadata } from '../../engine/engine.ts';
import { createLeftPaddedIds, createLeftPaddedMask, createLeftPaddedPositions, type DecodeBatch } from './batched-cache.ts';
import type { BatchedDecoding, Decoding, GenerativeModel } from './generative-model.ts';
import { createBranchFlag, createIdsTensor, createOnesMask, createPositions } from './model-feeds.ts';
import {
  countCacheLayers,
  createEmptyPast,
  listPastInputs,
  PAST_PREFIX,
  presentNameOf,
  readDecoderCacheShape,
  type CacheShape,
} from './past-key-values.ts';
import { readLastScoreRows, readLastScores } from './read-scores.ts';

const KNOWN_INPUTS = new Set(['input_ids', 'attention_mask', 'position_ids', 'use_cache_branch']);

export interface DecoderOnlyModelOptions {
  /** config.json, for cache shapes the export leaves symbolic. */
  config: Record<string, unknown>;
  maxSequenceLength: number;
}

/** Refuses exports whose inputs this runner would not know how to fill. */
function checkInputs(session: EngineSession): void {
  const names = session.inputs.map((input) => input.name);
  if (!names.includes('input_ids')) throw new Error('a causal language model must take input_ids');
  if (!session.outputs.some((output) => output.name === 'logits')) throw new Error('a causal language model must output logits');
  const unknown = names.filter((name) => !KNOWN_INPUTS.has(name) && !name.startsWith(PAST_PREFIX));
  if (unknown.length > 0) throw new Error(`unsupported model inputs: ${unknown.join(', ')}`);
}

/**
 * A Hugging Face causal LM export (Llama, Qwen, SmolLM, GPT-2): `input_ids`, `attention_mask`, optional
 * `position_ids` and `past_key_values.<n>.{key,value}` in; `logits` and `present.<n>.{key,value}` out.
 * With the cache, the first step runs the prompt against an empty past and each later step only the new token.
 */
export function createDecoderOnlyModel(session: EngineSession, options: DecoderOnlyModelOptions): GenerativeModel {
  checkInputs(session);
  const pastInputs = listPastInputs(session.inputs);
  const outputNames = new Set(session.outputs.map((output) => output.name));
  const presentNames = pastInputs.map((input) => presentNameOf(input.name));
  const hasCache = pastInputs.length > 0 && presentNames.every((name) => outputNames.has(name));
  if (pastInputs.length > 0 && !hasCache) throw new Error('the model takes past_key_values but does not return every present.* output');
  if (pastInputs.length > 0 && countCacheLayers(pastInputs) * 2 !== pastInputs.length) {
    throw new Error(`expected a key and a value per layer, got ${pastInputs.length} cache inputs`);
  }
  const cacheShape: CacheShape = readDecoderCacheShape(options.config);
  const declared = new Set(session.inputs.map((input) => input.name));

  const run = async (newIds: readonly number[], pastLength: number, past: Map<string, Tensor> | undefined, keepCache: boolean) => {
    const feeds: Feeds = {
      input_ids: createIdsTensor(newIds),
    };
    if (declared.has('attention_mask')) feeds.attention_mask = createOnesMask(pastLength + newIds.length);
    if (declared.has('position_ids')) feeds.position_ids = createPositions(pastLength, newIds.length);
    if (declared.has('use_cache_branch')) feeds.use_cache_branch = createBranchFlag(past !== undefined);
    for (const input of pastInputs) feeds[input.name] = past?.get(input.name) ?? createEmptyPast(input, cacheShape);
    const outputs = await session.run(feeds, keepCache ? ['logits', ...presentNames] : ['logits']);
    const nextPast = new Map<string, Tensor>();
    if (keepCache) for (const input of pastInputs) nextPast.set(input.name, outputs[presentNameOf(input.name)]);
    return { scores: readLastScores(outputs.logits), nextPast };
  };

  // A batch needs per-row masks and positions, and a batch axis the export left free.
  const fixedBatch = session.inputs.some((input) => (input.name === 'input_ids' || input.name.startsWith(PAST_PREFIX)) && typeof input.shape[0] === 'number' && input.shape[0] !== -1);
  const canBatch = hasCache && declared.has('attention_mask') && declared.has('position_ids') && !fixedBatch;
  const batched = canBatch ? createBatchedDecoding(session, pastInputs, presentNames, cacheShape, declared) : undefined;

  return {
    kind: 'decoder-only',
    hasCache,
    batched,
    // The prompt must leave room for at least one new token.
    maxInputTokens: options.maxSequenceLength - 1,
    maxSequenceLength: options.maxSequenceLength,
    executionProvider: session.executionProvider,
    async start(promptIds, { useCache }): Promise<Decoding> {
      if (promptIds.length === 0) throw new Error('a causal language model needs at least one prompt token');
      const ids = [...promptIds];
      const cached = useCache && hasCache;
      let seen = 0;
      let past: Map<string, Tensor> | undefined;
      return {
        ids,
        push: (id) => void ids.push(id),
        async nextScores() {
          // Without the cache, every step re-runs the whole sequence from an empty past.
          const newIds = cached ? ids.slice(seen) : ids;
          const result = await run(newIds, cached ? seen : 0, cached ? past : undefined, cached);
          if (cached) {
            past = result.nextPast;
            seen = ids.length;
          }
          return result.scores;
        },
      };
    },
    release: () => session.release(),
  };
}

/** An empty cache entry for `rows` rows. */
function createEmptyPastRows(input: ValueMetadata, shape: CacheShape, rows: number): Tensor {
  const empty = createEmptyPast(input, shape);
  return { ...empty, dims: [rows, ...empty.dims.slice(1)] };
}

function createBatchedDecoding(
  session: EngineSession,
  pastInputs: readonly ValueMetadata[],
  presentNames: readonly string[],
  cacheShape: CacheShape,
  declared: ReadonlySet<string>,
): BatchedDecoding {
  const outputNames = ['logits', ...presentNames];
  const run = async (feeds: Feeds, lengths: number[], width: number) => {
    if (declared.has('use_cache_branch')) feeds.use_cache_branch = createBranchFlag(width > 0);
    const outputs = await session.run(feeds, outputNames);
    const past = new Map<string, Tensor>();
    pastInputs.forEach((input, index) => past.set(input.name, outputs[presentNames[index]]));
    const batch: DecodeBatch = { lengths, width: outputs[presentNames[0]].dims[2], past };
    return { batch, scores: readLastScoreRows(outputs.logits) };
  };
  return {
    async prefill(prompts) {
      const width = Math.max(...prompts.map((prompt) => prompt.length));
      const lengths = prompts.map((prompt) => prompt.length);
      const feeds: Feeds = {
        // Padding ids are hidden by the mask; 0 is a valid id in every vocabulary.
        input_ids: createLeftPaddedIds(prompts, width, 0),
        attention_mask: createLeftPaddedMask(lengths, width),
        position_ids: createLeftPaddedPositions(lengths.map(() => 0), lengths, width),
      };
      for (const input of pastInputs) feeds[input.name] = createEmptyPastRows(input, cacheShape, prompts.length);
      return run(feeds, lengths, 0);
    },
    async step(batch, tokens) {
      const lengths = batch.lengths.map((length) => length + 1);
      const feeds: Feeds = {
        input_ids: { type: 'int64', data: BigInt64Array.from(tokens, (id) => BigInt(id)), dims: [tokens.length, 1] },
        attention_mask: createLeftPaddedMask(lengths, batch.width + 1),
        position_ids: { type: 'int64', data: BigInt64Array.from(batch.lengths, (length) => BigInt(length)), dims: [tokens.length, 1] },
      };
      for (const [name, entry] of batch.past) feeds[name] = entry;
      return run(feeds, lengths, batch.width);
    },
  };
}
