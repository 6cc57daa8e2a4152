/**
 * How sure a model was of the tokens it chose, each under the distribution it was chosen from (after the logits
 * processors: a grammar's mask, penalties, temperature, top-k/top-p), end-of-sequence tokens left out. Free text
 * reads `geometricMean` (its weakest word says little: many words fit); a constrained value reads `lowest` (the
 * weakest choice the model made). Both are 1 for an answer with no such token.
 */
export interface TokenConfidence {
  /** exp of the tokens' mean log-probability, in [0, 1]. */
  geometricMean: number;
  /** The lowest probability of any token, in [0, 1]. */
  lowest: number;
}

/** Adds up chosen tokens' log-probabilities as they come, for a `TokenConfidence` at the end. */
export interface ConfidenceTally {
  add(logprob: number): void;
  result(): TokenConfidence;
}

/** A tally with nothing counted yet. */
export function createConfidenceTally(): ConfidenceTally {
  let sum = 0;
  let count = 0;
  let lowest = 0;
  return {
    add(logprob) {
      sum += logprob;
      count++;
      if (logprob < lowest) lowest = logprob;
    },
    result: () => ({ geometricMean: count === 0 ? 1 : Math.exp(sum / count), lowest: Math.exp(lowest) }),
  };
}
