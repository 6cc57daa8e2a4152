import { describe, expect, it } from 'vitest';
import { chooseNextToken } from '../../src/tasks/generate/choose-next-token.ts';
import {
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  logSoftmaxAt,
} from '../../src/tasks/generate/logits-processors.ts';
import { argmax, softmax } from '../../src/tasks/scores.ts';
import { createSeededRandom } from '../../src/tasks/generate/seeded-random.ts';

const greedy = { sampling: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 };

describe('logits transforms (Hugging Face semantics)', () => {
  it('repetition penalty divides positive and multiplies negative scores of seen tokens, once each', () => {
    const scores = Float32Array.of(2, -1, 0.5, -3, 4);
    applyRepetitionPenalty(scores, [0, 1, 1, 3, 3, 3], 2);
    // HF: score = score < 0 ? score * penalty : score / penalty, for each distinct id in input_ids.
    expect([...scores]).toEqual([1, -2, 0.5, -6, 4]);
  });

  it('a penalty below 1 rewards seen tokens the same way', () => {
    const scores = Float32Array.of(2, -1);
    applyRepetitionPenalty(scores, [0, 1], 0.5);
    expect([...scores]).toEqual([4, -0.5]);
  });

  it('temperature divides every score', () => {
    const scores = Float32Array.of(1, -2, 3);
    applyTemperature(scores, 0.5);
    expect([...scores]).toEqual([2, -4, 6]);
  });

  it('top-k keeps the k highest scores and ties with the k-th', () => {
    const scores = Float32Array.of(1, 5, 3, 3, 0);
    applyTopK(scores, 2);
    expect([...scores]).toEqual([-Infinity, 5, 3, 3, -Infinity]);
    const all = Float32Array.of(1, 2);
    applyTopK(all, 0);
    expect([...all]).toEqual([1, 2]);
  });

  it('top-p keeps the smallest most-likely set whose probability reaches p', () => {
    // Probabilities 0.5, 0.3, 0.15, 0.05 (as logs): with p = 0.75 the first two reach 0.8 and stay.
    const probabilities = [0.5, 0.3, 0.15, 0.05];
    const scores = Float32Array.from(probabilities, Math.log);
    applyTopP(scores, 0.75);
    expect(scores.slice(0, 2).every(Number.isFinite)).toBe(true);
    expect([...scores.slice(2)]).toEqual([-Infinity, -Infinity]);
    // p = 0.5 is reached by the first token alone; the most likely token always stays.
    const strict = Float32Array.from(probabilities, Math.log);
    applyTopP(strict, 0.1);
    expect([...strict].filter(Number.isFinite)).toHaveLength(1);
  });

  it('softmax, log-softmax and argmax agree with their formulas', () => {
    const scores = Float32Array.of(1, 2, 3);
    const sum = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expect(softmax(scores)[2]).toBeCloseTo(Math.exp(3) / sum, 12);
    expect(logSoftmaxAt(scores, 0)).toBeCloseTo(1 - Math.log(sum), 6);
    expect(argmax(Float32Array.of(0, 7, 7, 1))).toBe(1);
  });
});

describe('choosing the next token', () => {
  const scores = Float32Array.of(0.1, 2, 1.9, -1, 0.5);

  it('greedy takes the argmax after the repetition penalty, without touching the model scores', () => {
    expect(chooseNextToken(scores, [], greedy, Math.random).id).toBe(1);
    // 2 / 1.2 = 1.667 falls below 1.9.
    expect(chooseNextToken(scores, [1], { ...greedy, repetitionPenalty: 1.2 }, Math.random).id).toBe(2);
    expect(scores[1]).toBe(2);
  });

  it('sampling with top_k = 1 is greedy whatever the draw', () => {
    const random = createSeededRandom(7);
    for (let i = 0; i < 20; i++) {
      expect(chooseNextToken(scores, [], { ...greedy, sampling: true, temperature: 1.5, topK: 1 }, random).id).toBe(1);
    }
  });

  it('sampling follows the softmax distribution', () => {
    const random = createSeededRandom(11);
    const counts = new Array(scores.length).fill(0);
    const draws = 20000;
    for (let i = 0; i < draws; i++) counts[chooseNextToken(scores, [], { ...greedy, sampling: true }, random).id]++;
    const expected = softmax(scores);
    counts.forEach((count, id) => expect(count / draws).toBeCloseTo(expected[id], 1));
  });

  it('suppressed ids are never chosen', () => {
    expect(chooseNextToken(scores, [], { ...greedy, suppressedIds: [1] }, Math.random).id).toBe(2);
  });
});

describe('seeded random', () => {
  it('repeats its stream for a seed and differs between seeds', () => {
    const take = (seed: number) => {
      const random = createSeededRandom(seed);
      return Array.from({ length: 8 }, () => random());
    };
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
    expect(take(2 ** 40 + 1)).not.toEqual(take(1));
    for (const value of take(5)) expect(value >= 0 && value < 1).toBe(true);
  });
});
