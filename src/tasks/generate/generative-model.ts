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
  start(promptIds: readonly number[], options: { useCache: boolean }): Promise<Decoding>;
  release(): Promise<void>;
}
