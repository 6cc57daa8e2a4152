import type { ResolvedGenerationOptions } from './generation-options.ts';
import {
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  logSoftmaxAt,
} from './logits-processors.ts';
import { argmax, softmax } from '../scores.ts';
import type { RandomSource } from './seeded-random.ts';

export interface TokenChoice {
  id: number;
  /** Log-probability of the choice under the distribution it was drawn from (after the transforms). */
  logprob: number;
}

type ChoiceOptions = Pick<ResolvedGenerationOptions, 'sampling' | 'temperature' | 'topK' | 'topP' | 'repetitionPenalty'> & {
  /** Tokens that may not be chosen now (end-of-sequence before the minimum length). */
  suppressedIds?: readonly number[];
};

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

/** Picks the next token from one row of next-token scores, leaving `modelScores` untouched. */
export function chooseNextToken(
  modelScores: Float32Array,
  sequence: readonly number[],
  options: ChoiceOptions,
  random: RandomSource,
): TokenChoice {
  const scores = Float32Array.from(modelScores);
  applyRepetitionPenalty(scores, sequence, options.repetitionPenalty);
  for (const id of options.suppressedIds ?? []) if (id >= 0 && id < scores.length) scores[id] = -Infinity;
  if (!options.sampling) {
    const id = argmax(scores);
    return { id, logprob: logSoftmaxAt(scores, id) };
  }
  applyTemperature(scores, options.temperature);
  applyTopK(scores, options.topK);
  applyTopP(scores, options.topP);
  const id = drawIndex(softmax(scores), random);
  return { id, logprob: logSoftmaxAt(scores, id) };
}
