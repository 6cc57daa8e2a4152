import type { ResolvedGenerationOptions } from './generation-options.ts';
import {
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  logSoftmaxAt,
} from './logits-processors.ts';
import { argmax, softmaxOfVocabulary } from '../scores.ts';
import type { RandomSource } from './seeded-random.ts';

export interface TokenChoice {
  id: number;
  /**
   * Log-probability of the choice under the distribution it was drawn from (after the transforms); left out
   * when the caller did not ask for it, because it costs a pass over the whole vocabulary.
   */
  logprob?: number;
}

type ChoiceOptions = Pick<ResolvedGenerationOptions, 'sampling' | 'temperature' | 'topK' | 'topP' | 'repetitionPenalty'> & {
  /** Tokens that may not be chosen now (end-of-sequence before the minimum length). */
  suppressedIds?: readonly number[];
};

export interface ChoiceHandling {
  /** The caller owns `modelScores` and will not read them again, so they may be changed in place instead of copied. */
  scoresAreScratch?: boolean;
  /** Compute the choice's log-probability (streaming answers show it). On by default. */
  withLogprob?: boolean;
}

/** Draws an index with probability proportional to `probabilities` (which sum to 1). */
function drawIndex(probabilities: Float64Array, random: RandomSource): number {
  const target = random();
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probabilities.length; i++) {
    if (probabilities[i] === 0) continue;
    cumulative += probabilities[i];
    last = i;
    if (target < cumulative) return i;
  }
  // Rounding can leave the sum a hair under 1; the draw then belongs to the last possible token.
  return last;
}

/** True when no transform would change the scores: the choice is the argmax of the model's own row. */
function isPlainGreedy(options: ChoiceOptions): boolean {
  return !options.sampling && options.repetitionPenalty === 1 && (options.suppressedIds?.length ?? 0) === 0;
}

/**
 * Picks the next token from one row of next-token scores. `modelScores` is left untouched unless the caller
 * says it is scratch; plain greedy decoding reads it without any copy.
 */
export function chooseNextToken(
  modelScores: Float32Array,
  sequence: readonly number[],
  options: ChoiceOptions,
  random: RandomSource,
  handling: ChoiceHandling = {},
): TokenChoice {
  const withLogprob = handling.withLogprob ?? true;
  if (isPlainGreedy(options)) {
    const id = argmax(modelScores);
    return withLogprob ? { id, logprob: logSoftmaxAt(modelScores, id) } : { id };
  }
  const scores = handling.scoresAreScratch ? modelScores : Float32Array.from(modelScores);
  applyRepetitionPenalty(scores, sequence, options.repetitionPenalty);
  for (const id of options.suppressedIds ?? []) if (id >= 0 && id < scores.length) scores[id] = -Infinity;
  if (!options.sampling) {
    const id = argmax(scores);
    return withLogprob ? { id, logprob: logSoftmaxAt(scores, id) } : { id };
  }
  applyTemperature(scores, options.temperature);
  applyTopK(scores, options.topK);
  applyTopP(scores, options.topP);
  const id = drawIndex(softmaxOfVocabulary(scores), random);
  return withLogprob ? { id, logprob: logSoftmaxAt(scores, id) } : { id };
}
