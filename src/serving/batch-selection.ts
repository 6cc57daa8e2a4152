import type { RequestSize } from '../spec/request-size.ts';

export interface BatchLimits {
  maxBatchSize: number;
  maxBatchTokens: number;
  maxPaddingShare: number;
}

/**
 * Picks the requests of the next run from the waiting ones (oldest first): always the oldest, then those
 * closest to it in length, as long as the run stays within the row and token caps and its padding stays under
 * `maxPaddingShare` of its tokens. Requests far from the oldest in length wait for a run of their own length,
 * at the latest until they are the oldest. Returns indices into `waiting`, in queue order.
 */
export function selectBatch(waiting: readonly RequestSize[], limits: BatchLimits): number[] {
  if (waiting.length === 0) return [];
  const oldest = waiting[0];
  let rows = oldest.rows;
  let longest = oldest.longest;
  let tokens = oldest.tokens;
  const chosen = [0];
  const candidates = waiting
    .map((size, index) => ({ size, index, distance: Math.abs(size.longest - oldest.longest) }))
    .slice(1)
    .sort((a, b) => a.distance - b.distance || a.index - b.index);
  for (const { size, index } of candidates) {
    if (rows >= limits.maxBatchSize) break;
    const nextRows = rows + size.rows;
    const nextLongest = Math.max(longest, size.longest);
    const padded = nextRows * nextLongest;
    const nextTokens = tokens + size.tokens;
    if (nextRows > limits.maxBatchSize || padded > limits.maxBatchTokens) continue;
    if (padded > 0 && (padded - nextTokens) / padded > limits.maxPaddingShare) continue;
    rows = nextRows;
    longest = nextLongest;
    tokens = nextTokens;
    chosen.push(index);
  }
  return chosen.sort((a, b) => a - b);
}

/** Rough token count of a text for batching decisions, before the task's tokenizer has seen it (about 4 characters a token). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4) + 2;
}

/** Tokens of one text, and how many model rows it takes (texts longer than the model reads take several windows). */
export type CountTokens = (text: string) => number;

/**
 * The size of a request whose inputs are a text or a list of texts (classify, extract), from `countTokens` (the
 * model's tokenizer) or the estimate; anything else is one row. A text longer than `maxRowTokens` is read in
 * windows, each a row of at most that length.
 */
export function measureTextInputs(inputs: unknown, countTokens: CountTokens = estimateTokens, maxRowTokens = Infinity): RequestSize {
  const texts = typeof inputs === 'string' ? [inputs] : Array.isArray(inputs) ? inputs.filter((text): text is string => typeof text === 'string') : [];
  if (texts.length === 0) return { rows: 1, longest: 1, tokens: 1 };
  let rows = 0;
  let longest = 0;
  let tokens = 0;
  for (const text of texts) {
    const count = countTokens(text);
    const windows = Math.max(1, Math.ceil(count / maxRowTokens));
    rows += windows;
    longest = Math.max(longest, Math.min(count, maxRowTokens));
    tokens += Math.min(count, maxRowTokens * windows);
  }
  return { rows, longest, tokens };
}
