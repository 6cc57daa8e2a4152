import type { EngineSession, Feeds, Tensor, TensorData } from '../../engine/engine.ts';
import { gatherRows, joinBatches, keepRows, type AllocateCache, type DecodeBatch } from './batched-cache.ts';
import { createBufferPool, type BufferPool } from './cache-pool.ts';
import { createDecoderFeeds, lengthsAfter, type DecoderRun } from './decoder-feeds.ts';
import { readDecoderSignature, type DecoderSignature } from './decoder-signature.ts';
import type { BatchedDecoding, BatchedStep, Decoding, GenerativeModel } from './generative-model.ts';
import { createEmptyPast } from './past-key-values.ts';
import { readLastScoreRows, readScoreRow } from './read-scores.ts';
import { logSumExp } from './log-sum-exp.ts';

export interface DecoderOnlyModelOptions {
  /** config.json, for cache shapes the export leaves symbolic. */
  config: Record<string, unknown>;
  maxSequenceLength: number;
  /**
   * Most prompt tokens (all rows together) one prefill run takes; longer prompts run in chunks, so a run's logits
   * and attention stay bounded (logits alone are rows × tokens × vocabulary floats). 128 by default.
   */
  prefillChunkTokens?: number;
  /** Most sequences the shared step loop decodes together (what the memory check found room for). */
  maxRows?: number;
}

export const DEFAULT_PREFILL_CHUNK_TOKENS = 128;

const EMPTY_BATCH: DecodeBatch = { lengths: [], width: 0, past: new Map() };

/**
 * Runs of one causal LM with memory it keeps: each run writes its cache and logits into pooled blocks (where the
 * engine writes into the caller's outputs) instead of fresh engine memory, and gives the previous cache's block
 * back. One runner per sequence of runs that never overlap: the shared step loop, or one lone generation.
 */
interface DecoderRunner {
  /** Several rows of more than one token over a cache must run one row at a time (see EngineSession). */
  rowsRunAlone: boolean;
  advance(batch: DecodeBatch, run: Omit<DecoderRun, 'before' | 'pastWidth'>, keepCache: boolean): Promise<BatchedStep & { logits: Tensor }>;
  allocate: AllocateCache;
  release(batch: DecodeBatch): void;
}

function createDecoderRunner(session: EngineSession, signature: DecoderSignature): DecoderRunner {
  const { pastInputs, presentNames, cacheHeads, cacheHeadDimension, vocabulary } = signature;
  let writesIntoOutputs = session.writesIntoOutputs === true;
  const CacheArray = signature.cacheType === 'float16' ? Uint16Array : Float32Array;
  // A new cache block gets room for 64 more positions of a row, so a growing cache changes blocks only now and then.
  const positionLength = pastInputs.length * cacheHeads * cacheHeadDimension;
  const cachePool: BufferPool = createBufferPool(CacheArray, { minimumHeadroom: positionLength * 64 });
  const logitsPool: BufferPool = createBufferPool(signature.logitsType === 'float16' ? Uint16Array : Float32Array, { maxFree: 1, headroom: 0 });
  let widened: Float32Array | undefined;
  let logitsBlock: TensorData | undefined;

  const release = (batch: DecodeBatch) => {
    if (batch.block) cachePool.release(batch.block);
  };

  /** Views of the outputs' memory for a run of `rows` rows whose cache grows to `total` positions. */
  const createOutputs = (rows: number, width: number, total: number, keepCache: boolean, logitPositions: number) => {
    const outputs: Record<string, Tensor> = {};
    let block: TensorData | undefined;
    if (keepCache) {
      const entryLength = rows * cacheHeads * total * cacheHeadDimension;
      block = cachePool.acquire(entryLength * presentNames.length);
      presentNames.forEach((name, index) => {
        const data = block!.subarray(index * entryLength, (index + 1) * entryLength) as TensorData;
        outputs[name] = { type: signature.cacheType, data, dims: [rows, cacheHeads, total, cacheHeadDimension] };
      });
    }
    if (vocabulary !== undefined) {
      const positions = signature.logitsToKeepInput ? logitPositions : width;
      const length = rows * positions * vocabulary;
      // The previous run's scores have been read (runs never overlap): its block holds this run's logits.
      if (logitsBlock) logitsPool.release(logitsBlock);
      logitsBlock = logitsPool.acquire(length);
      outputs.logits = { type: signature.logitsType, data: logitsBlock.subarray(0, length) as TensorData, dims: [rows, positions, vocabulary] };
    }
    return { outputs, block };
  };

  return {
    rowsRunAlone: session.rowsRunAloneOverCache === true,
    release,
    allocate: (_type, length) => cachePool.acquire(length),
    async advance(batch, { rows, width, logitPositions = 1 }, keepCache) {
      const run: DecoderRun = { before: batch.lengths.length > 0 ? batch.lengths : rows.map(() => 0), rows, width, pastWidth: batch.width, logitPositions };
      const feeds: Feeds = createDecoderFeeds(signature, run);
      for (const input of pastInputs) {
        const entry = createEmptyPast(input, { heads: cacheHeads, headDimension: cacheHeadDimension });
        feeds[input.name] = batch.past.get(input.name) ?? { ...entry, dims: [rows.length, ...entry.dims.slice(1)] };
      }
      const wanted = keepCache ? ['logits', ...presentNames] : ['logits'];
      const total = batch.width + width;
      let results: Record<string, Tensor>;
      let block: TensorData | undefined;
      if (writesIntoOutputs) {
        const prepared = createOutputs(rows.length, width, total, keepCache, logitPositions);
        block = prepared.block;
        try {
          results = await session.run(feeds, wanted, { outputs: prepared.outputs });
        } catch (error) {
          if (block) cachePool.release(block);
          // An export whose outputs are shaped otherwise than a Hugging Face causal LM's (a shared past/present
          // buffer, for one) is refused by the engine on its first run; from then on the engine allocates them.
          if (batch.width > 0 || !/shape|re-?use|dimension/i.test(String((error as Error).message))) throw error;
          writesIntoOutputs = false;
          block = undefined;
          results = await session.run(feeds, wanted);
        }
      } else {
        results = await session.run(feeds, wanted);
      }
      release(batch);
      const past = new Map<string, Tensor>();
      if (keepCache) pastInputs.forEach((input, index) => past.set(input.name, results[presentNames[index]]));
      const logits = results.logits;
      if (logits.type === 'float16') {
        // fp16 scores are widened into one reused array rather than a new one per step.
        const length = rows.length * logits.dims[logits.dims.length - 1];
        if (!widened || widened.length < length) widened = new Float32Array(length);
      }
      const next: DecodeBatch = { lengths: lengthsAfter(run), width: keepCache ? total : 0, past, block };
      return { batch: next, scores: readLastScoreRows(logits, widened), logits };
    },
  };
}

/**
 * Prefills rows against an empty cache in chunks of at most `chunkTokens` tokens per run (all rows together):
 * rows are left-padded to the longest, so a chunk holds each row's tokens that fall in its span of positions.
 */
async function prefillInChunks(runner: DecoderRunner, prompts: readonly (readonly number[])[], chunkTokens: number): Promise<BatchedStep> {
  const width = Math.max(...prompts.map((prompt) => prompt.length));
  const span = Math.max(1, Math.floor(chunkTokens / prompts.length));
  // Chunks after the first would be several rows of several tokens over a cache.
  if (runner.rowsRunAlone && prompts.length > 1 && width > span) return prefillOneByOne(runner, prompts, chunkTokens);
  let batch = EMPTY_BATCH;
  let step: BatchedStep | undefined;
  for (let start = 0; start < width; start += span) {
    const end = Math.min(width, start + span);
    // Row r's prompt occupies padded positions [width - length, width).
    const rows = prompts.map((prompt) => prompt.slice(Math.max(0, start - (width - prompt.length)), Math.max(0, end - (width - prompt.length))));
    step = await runner.advance(batch, { rows, width: end - start }, true);
    batch = step.batch;
  }
  return step!;
}

/** Each prompt prefilled alone, then every row gathered into one left-padded batch (one copy of each cache). */
async function prefillOneByOne(runner: DecoderRunner, prompts: readonly (readonly number[])[], chunkTokens: number): Promise<BatchedStep> {
  const alone: DecodeBatch[] = [];
  const scores: Float32Array[] = [];
  for (const prompt of prompts) {
    const step = await prefillInChunks(runner, [prompt], chunkTokens);
    // A run's scores may be a view of memory the next run reuses.
    scores.push(Float32Array.from(step.scores[0]));
    alone.push(step.batch);
  }
  const batch = gatherRows(alone.map((single) => ({ batch: single, row: 0 })), undefined, runner.allocate);
  for (const single of alone) runner.release(single);
  return { batch, scores };
}

/** `continuation`'s tokens from the second on, read at `positions` of a run's logits (the first one predicts token 1). */
function readContinuationLogprobs(logits: Tensor, row: number, firstPosition: number, continuation: readonly number[]): number[] {
  const logprobs: number[] = [];
  for (let index = 1; index < continuation.length; index++) {
    const scores = readScoreRow(logits, row, firstPosition + index - 1);
    logprobs.push(scores[continuation[index]] - logSumExp(scores));
  }
  return logprobs;
}

/**
 * Scores continuations after one prompt: the prompt runs once into a cache; then every continuation (but its last
 * token, which nothing follows) runs in one batched run against copies of that cache, up to `chunkTokens` tokens a
 * run. Shorter continuations are right-padded with their own last token: attention is causal, so the filler after
 * a row's real tokens changes none of their scores, and every row keeps one length (no padding inside a row).
 */
async function scoreWithSharedPrompt(
  runner: DecoderRunner,
  promptIds: readonly number[],
  continuations: readonly (readonly number[])[],
  chunkTokens: number,
): Promise<number[][]> {
  const prefilled = await prefillInChunks(runner, [promptIds], chunkTokens);
  const first = prefilled.scores[0];
  const normaliser = logSumExp(first);
  const results = continuations.map((continuation) => (continuation.length > 0 ? [first[continuation[0]] - normaliser] : []));
  const width = Math.max(0, ...continuations.map((continuation) => continuation.length - 1));
  try {
    if (width === 0) return results;
    const rowsPerRun = runner.rowsRunAlone ? 1 : Math.max(1, Math.floor(chunkTokens / width));
    for (let start = 0; start < continuations.length; start += rowsPerRun) {
      const group = continuations.slice(start, start + rowsPerRun);
      const batch = gatherRows(group.map(() => ({ batch: prefilled.batch, row: 0 })), undefined, runner.allocate);
      const rows = group.map((continuation) => {
        const fed = continuation.slice(0, -1);
        const filler = fed.at(-1) ?? promptIds[promptIds.length - 1];
        while (fed.length < width) fed.push(filler);
        return fed;
      });
      const step = await runner.advance(batch, { rows, width, logitPositions: width }, false);
      // Outputs keep the last `positions` of the run (all of them, or what logits_to_keep left).
      const offset = step.logits.dims[1] - width;
      group.forEach((continuation, row) => results[start + row].push(...readContinuationLogprobs(step.logits, row, offset, continuation)));
    }
    return results;
  } finally {
    runner.release(prefilled.batch);
  }
}

/** Without a batchable cache: one uncached run of prompt + continuation each, reading the continuation's positions. */
async function scoreOneByOne(runner: DecoderRunner, promptIds: readonly number[], continuations: readonly (readonly number[])[]): Promise<number[][]> {
  const results: number[][] = [];
  for (const continuation of continuations) {
    if (continuation.length === 0) {
      results.push([]);
      continue;
    }
    const sequence = [...promptIds, ...continuation.slice(0, -1)];
    const step = await runner.advance(EMPTY_BATCH, { rows: [sequence], width: sequence.length, logitPositions: continuation.length }, false);
    const offset = step.logits.dims[1] - continuation.length;
    const scores = readScoreRow(step.logits, 0, offset);
    results.push([scores[continuation[0]] - logSumExp(scores), ...readContinuationLogprobs(step.logits, 0, offset + 1, continuation)]);
  }
  return results;
}

/**
 * A Hugging Face causal LM export (Llama, Qwen, SmolLM, GPT-2): `input_ids`, `attention_mask`, optional
 * `position_ids` and `past_key_values.<n>.{key,value}` in; `logits` and `present.<n>.{key,value}` out. The graph's
 * inputs decide how it is driven (see DecoderSignature). With the cache, the prompt runs against an empty past in
 * chunks and each later step feeds only the new token.
 */
export function createDecoderOnlyModel(session: EngineSession, options: DecoderOnlyModelOptions): GenerativeModel {
  const signature = readDecoderSignature(session, options.config);
  const chunkTokens = Math.max(1, options.prefillChunkTokens ?? DEFAULT_PREFILL_CHUNK_TOKENS);
  const { hasCache } = signature;

  let batched: BatchedDecoding | undefined;
  if (signature.canBatch) {
    // The shared step loop is the only user of this runner: its runs never overlap.
    const runner = createDecoderRunner(session, signature);
    batched = {
      maxRows: options.maxRows,
      empty: EMPTY_BATCH,
      prefill: (prompts) => prefillInChunks(runner, prompts, chunkTokens),
      step: (batch, tokens) => runner.advance(batch, { rows: tokens.map((token) => [token]), width: 1 }, true),
      keep(batch, rows) {
        const kept = keepRows(batch, rows, runner.allocate);
        if (kept !== batch) runner.release(batch);
        return kept;
      },
      join(first, second) {
        const joined = joinBatches(first, second, runner.allocate);
        if (joined !== first && joined !== second) {
          runner.release(first);
          runner.release(second);
        }
        return joined;
      },
    };
  }

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
      // Each lone generation has its own runner: several may run on one session at once.
      const runner = createDecoderRunner(session, signature);
      let batch = EMPTY_BATCH;
      return {
        ids,
        push: (id) => void ids.push(id),
        async nextScores() {
          if (!cached) {
            // Without the cache, every step re-runs the whole sequence from an empty past.
            return (await runner.advance(EMPTY_BATCH, { rows: [ids], width: ids.length }, false)).scores[0];
          }
          const step = batch.width === 0 ? await prefillInChunks(runner, [ids], chunkTokens) : await runner.advance(batch, { rows: [ids.slice(batch.width)], width: ids.length - batch.width }, true);
          batch = step.batch;
          return step.scores[0];
        },
      };
    },
    scoreContinuations(promptIds, continuations) {
      if (promptIds.length === 0) throw new Error('a causal language model needs at least one prompt token');
      // A runner of its own: scoring may run while the shared step loop or other requests use the session.
      const runner = createDecoderRunner(session, signature);
      return signature.canBatch ? scoreWithSharedPrompt(runner, promptIds, continuations, chunkTokens) : scoreOneByOne(runner, promptIds, continuations);
    },
    release: () => session.release(),
  };
}
