import { logSumExp } from './log-sum-exp.ts';

/** A token and its log-probability under the model's distribution for one step. */
export interface TokenLogprob {
  id: number;
  logprob: number;
}

/**
 * The log-softmax of one row of next-token scores, read for a few ids: the `count` most likely, best first (ties
 * by lower id), and the normaliser, so that any other id's log-probability is `scores[id] - normaliser`. `count` is
 * small (at most 20): a sorted insertion into a short list beats sorting the vocabulary.
 */
export function readTopLogprobs(scores: Float32Array, count: number): { normaliser: number; top: TokenLogprob[] } {
  const normaliser = logSumExp(scores);
  const best: number[] = [];
  for (let i = 0; i < scores.length && count > 0; i++) {
    const score = scores[i];
    if (best.length === count && score <= scores[best[count - 1]]) continue;
    let at = best.length;
    while (at > 0 && score > scores[best[at - 1]]) at--;
    best.splice(at, 0, i);
    if (best.length > count) best.pop();
  }
  return {
    normaliser,
    top: best.map((id) => ({ id, logprob: scores[id] - normaliser })),
  };
}
