import { describe, expect, it } from 'vitest';
import { chooseNextToken, type ChoiceOptions } from '../../src/tasks/generate/choose-next-token.ts';
import { createSeededRandom, type RandomSource } from '../../src/tasks/generate/seeded-random.ts';
import { findKthLargest, selectHeaviest } from '../../src/tasks/generate/select-largest.ts';
import { referenceChoice } from '../support/reference-sampler.ts';

/**
 * Scores rounded to eighths make many ties, which top-k must keep and both must order as before. With top-p they
 * can also put the boundary exactly on 1 - p (80 equal tokens, p = 0.95): the reference sums the tail from the
 * bottom, the chain the head from the top, and the two roundings of that exact tie may differ by one token. Real
 * scores do not land there, so top-p rows are not rounded.
 */
function randomRow(random: RandomSource, length: number, spread: number, rounded: boolean): Float32Array {
  return Float32Array.from({ length }, () => {
    const score = (random() - 0.5) * spread;
    return rounded ? Math.round(score * 8) / 8 : score;
  });
}

describe('the logits processor chain', () => {
  const settings: ChoiceOptions[] = [
    { sampling: true, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 },
    { sampling: true, temperature: 0.7, topK: 40, topP: 1, repetitionPenalty: 1 },
    { sampling: true, temperature: 1.3, topK: 0, topP: 0.9, repetitionPenalty: 1.2 },
    { sampling: true, temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1, suppressedIds: [3] },
    { sampling: true, temperature: 1, topK: 3, topP: 0.5, repetitionPenalty: 1 },
    { sampling: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1.3, suppressedIds: [0, 1] },
  ];

  it('picks the same tokens and log-probabilities as whole-row sorting, for the same seed', () => {
    const rows = createSeededRandom(3);
    for (const [index, options] of settings.entries()) {
      for (const spread of [2, 12, 40]) {
        const ours = createSeededRandom(100 + index);
        const theirs = createSeededRandom(100 + index);
        for (let step = 0; step < 40; step++) {
          const scores = randomRow(rows, 3000, spread, options.topP === 1);
          const sequence = [5, 9, 9, 700];
          const expected = referenceChoice(scores, sequence, options, theirs);
          const chosen = chooseNextToken(scores, sequence, options, ours);
          expect(chosen.id).toBe(expected.id);
          expect(chosen.logprob).toBeCloseTo(expected.logprob, 9);
        }
      }
    }
  });

  it('keeps the model row untouched unless told it is scratch', () => {
    const scores = Float32Array.of(1, 4, 2, 3);
    const copy = Float32Array.from(scores);
    chooseNextToken(scores, [1], { ...settings[2] }, createSeededRandom(1));
    expect([...scores]).toEqual([...copy]);
  });
});

describe('partial selection', () => {
  it('finds the k-th largest with duplicates counted, over a row or a subset', () => {
    const values = Float32Array.of(1, 5, 3, 3, 0, 9);
    expect(findKthLargest(values, 1)).toBe(9);
    expect(findKthLargest(values, 3)).toBe(3);
    expect(findKthLargest(values, 4)).toBe(3);
    expect(findKthLargest(values, 5)).toBe(1);
    expect(findKthLargest(values, 2, Int32Array.of(0, 2, 4))).toBe(1);
  });

  it('selects the heaviest positions in order, higher position first among equals', () => {
    const weights = Float64Array.of(0.1, 0.4, 0.2, 0.4, 0.05);
    expect([...selectHeaviest(weights, 3)]).toEqual([3, 1, 2]);
    expect([...selectHeaviest(weights, 10)]).toEqual([3, 1, 2, 0, 4]);
    const random = createSeededRandom(9);
    const many = Float64Array.from({ length: 5000 }, () => Math.floor(random() * 50));
    const full = [...many.keys()].sort((a, b) => many[b] - many[a] || b - a);
    expect([...selectHeaviest(many, 300)]).toEqual(full.slice(0, 300));
  });
});
