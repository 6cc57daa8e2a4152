import type { ChoiceOptions } from '../../src/tasks/generate/choose-next-token.ts';
import type { RandomSource } from '../../src/tasks/generate/seeded-random.ts';
import { argmax, softmaxOfVocabulary } from '../../src/tasks/scores.ts';

/**
 * The sampler as it was before the chain (whole-row sorts, two softmaxes), kept here as the reference: the chain
 * must pick the same token, with the same log-probability, for the same row and random stream.
 */
export function referenceChoice(modelScores: Float32Array, sequence: readonly number[], options: ChoiceOptions, random: RandomSource) {
  const scores = Float32Array.from(modelScores);
  if (options.repetitionPenalty !== 1) {
    for (const id of new Set(sequence)) scores[id] = scores[id] < 0 ? scores[id] * options.repetitionPenalty : scores[id] / options.repetitionPenalty;
  }
  for (const id of options.suppressedIds ?? []) scores[id] = -Infinity;
  const logSoftmaxAt = (id: number) => {
    let max = -Infinity;
    for (const score of scores) if (score > max) max = score;
    let sum = 0;
    for (const score of scores) sum += Math.exp(score - max);
    return scores[id] - max - Math.log(sum);
  };
  if (!options.sampling) {
    const id = argmax(scores);
    return { id, logprob: logSoftmaxAt(id) };
  }
  if (options.temperature !== 1) for (let i = 0; i < scores.length; i++) scores[i] /= options.temperature;
  if (options.topK > 0 && options.topK < scores.length) {
    const threshold = Float32Array.from(scores).sort().reverse()[options.topK - 1];
    for (let i = 0; i < scores.length; i++) if (scores[i] < threshold) scores[i] = -Infinity;
  }
  if (options.topP < 1) {
    const probabilities = softmaxOfVocabulary(scores);
    const order = Array.from(scores.keys())
      .filter((index) => scores[index] !== -Infinity)
      .sort((a, b) => probabilities[a] - probabilities[b]);
    let cumulative = 0;
    for (let rank = 0; rank < order.length - 1; rank++) {
      cumulative += probabilities[order[rank]];
      if (cumulative > 1 - options.topP) break;
      scores[order[rank]] = -Infinity;
    }
  }
  const probabilities = softmaxOfVocabulary(scores);
  const target = random();
  let cumulative = 0;
  let id = 0;
  for (let i = 0; i < probabilities.length; i++) {
    if (probabilities[i] === 0) continue;
    cumulative += probabilities[i];
    id = i;
    if (target < cumulative) break;
  }
  return { id, logprob: logSoftmaxAt(id) };
}

