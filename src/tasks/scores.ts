/**
 * Score functions shared by the classification tasks, with Hugging Face's names, plus `exp` for models whose
 * logits are already log-probabilities (fastText): it gives the probabilities fastText reports, capped at 1.
 * fastText's hierarchical softmax adds log(p + 1e-5) at each node of a label's path, so a near-certain label's
 * log-probability comes out a little above 0 (zh: +2.5e-6) and its exp above 1; a probability is never over 1.
 */
export type ScoreFunction = 'softmax' | 'sigmoid' | 'exp' | 'none';

/** Writes the softmax of `logits[start, start + count)` into `scores`, which starts all zeros, and returns it. */
function softmaxInto<Scores extends { [index: number]: number }>(logits: ArrayLike<number>, start: number, count: number, scores: Scores): Scores {
  let max = -Infinity;
  for (let i = 0; i < count; i++) max = Math.max(max, logits[start + i]);
  // Every logit masked out (sampling filters set them to -Infinity): nothing is possible.
  if (max === -Infinity) return scores;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += scores[i] = Math.exp(logits[start + i] - max);
  for (let i = 0; i < count; i++) scores[i] /= sum;
  return scores;
}

/**
 * Softmax of a few labels, `logits[start, start + count)`: a row of a batch's output is read in place, without a
 * view. A plain array, not a Float64Array: a typed array over 64 bytes (9 labels) gets a backing store outside the
 * JavaScript heap, allocated and freed one by one, which made this a measurable part of an extract request.
 */
export function softmax(logits: ArrayLike<number>, start = 0, count = logits.length - start): number[] {
  return softmaxInto(logits, start, count, new Array<number>(count).fill(0));
}

/** Softmax over a whole vocabulary: a Float64Array, a quarter faster than a plain array at 32,000-150,000 entries. */
export function softmaxOfVocabulary(logits: ArrayLike<number>): Float64Array {
  return softmaxInto(logits, 0, logits.length, new Float64Array(logits.length));
}

export function sigmoid(value: number): number {
  return 1 / (1 + Math.exp(-value));
}

export function applyScoreFunction(logits: ArrayLike<number>, scoreFunction: ScoreFunction): number[] {
  if (scoreFunction === 'softmax') return softmax(logits);
  const scores = Array.from(logits);
  if (scoreFunction === 'sigmoid') for (let i = 0; i < scores.length; i++) scores[i] = sigmoid(scores[i]);
  if (scoreFunction === 'exp') for (let i = 0; i < scores.length; i++) scores[i] = Math.min(1, Math.exp(scores[i]));
  return scores;
}

/** The first index of the largest value, as `torch.argmax` picks. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
