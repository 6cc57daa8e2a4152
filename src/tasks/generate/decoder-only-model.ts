import type { EngineSession, Feeds, Tensor } from '../../engine/engine.ts';
import type { Decoding, GenerativeModel } from './generative-model.ts';
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
import { readLastScores } from './read-scores.ts';

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

  return {
    kind: 'decoder-only',
    hasCache,
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
