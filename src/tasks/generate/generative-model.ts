import type { DecodeBatch } from './batched-cache.ts';

/**
 * One generation in progress on a model: the token sequence the decoder has been given, and the scores
 * for the token that follows it. Runners keep their key/value cache inside.
 */
export interface Decoding {
  /** The decoder's sequence: the prompt (decoder-only) or the start token (encoder-decoder), then every pushed token. */
  readonly ids: readonly number[];
  /** Runs the model on what it has not seen yet and returns the next-token scores (one row of logits). */
  nextScores(): Promise<Float32Array>;
  push(id: number): void;
}

/** The next-token scores of every row of a batched run, and the batch's cache after it. */
export interface BatchedStep {
  batch: DecodeBatch;
  /**
   * One row of scores per batch row; views into the run's output, which the caller may change. They stay valid
   * until the next call on the same decoding, which may write its own scores into the same memory.
   */
  scores: Float32Array[];
}

/**
 * Decoding several sequences in one run per step, each row with its own cache length: rows are left-padded, the
 * attention mask hides the padding and every row gets its own positions. Only models whose export takes the
 * cache, an attention mask and position ids can do it.
 */
export interface BatchedDecoding {
  /** Runs the prompts together against an empty cache (long ones in chunks); their caches come back as one batch. */
  prefill(prompts: readonly (readonly number[])[]): Promise<BatchedStep>;
  /**
   * Feeds one token per row. The batch passed in is used up: its memory may hold the next step's cache, so only
   * the returned batch may be used afterwards. The same holds for `keep` and `join`.
   */
  step(batch: DecodeBatch, tokens: readonly number[]): Promise<BatchedStep>;
  /** Most rows one run may hold, where the model's memory plan limits them (the step loop's own default otherwise). */
  readonly maxRows?: number;
  /** A batch of no rows, to start from. */
  readonly empty: DecodeBatch;
  /** The rows at `rows`, in that order (the others left the batch). */
  keep(batch: DecodeBatch, rows: readonly number[]): DecodeBatch;
  /** Every row of `first`, then every row of `second`. */
  join(first: DecodeBatch, second: DecodeBatch): DecodeBatch;
}

/** How many sequences one run decodes at most; the rest wait for a row to free up. */
export const DEFAULT_MAX_ROWS = 32;

/** The two shapes of generative model honnx drives. */
export type GenerativeModelKind = 'decoder-only' | 'encoder-decoder';

/** A causal or sequence-to-sequence language model behind the engine seam, ready to decode. */
export interface GenerativeModel {
  readonly kind: GenerativeModelKind;
  /** Whether the export has key/value cache inputs; without them every step re-runs the whole sequence. */
  readonly hasCache: boolean;
  /** Longest prompt the model accepts, in tokens (for a causal model, one less than its length, to leave room for an answer). */
  readonly maxInputTokens: number;
  /** Longest decoder sequence (prompt included for decoder-only models); generation stops there. */
  readonly maxSequenceLength: number;
  readonly executionProvider: string;
  /** Present where the model can decode several sequences in one run (the shared step loop uses it). */
  readonly batched?: BatchedDecoding;
  start(promptIds: readonly number[], options: { useCache: boolean }): Promise<Decoding>;
  /**
   * The log-probability of every token of each continuation, given the prompt and the continuation's tokens before
   * it (`result[c][t]` for token t of continuation c), read from the model's full distribution at each position.
   * Decoder-only models run the prompt once and then every continuation in one batched run against copies of its
   * cache (where the export batches; else one uncached run per continuation).
   */
  scoreContinuations?(promptIds: readonly number[], continuations: readonly (readonly number[])[]): Promise<number[][]>;
  release(): Promise<void>;
}
