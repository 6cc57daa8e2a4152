import { describe, expect, it } from 'vitest';
import { logSumExp } from '../../src/tasks/generate/log-sum-exp.ts';
import { createSeededRandom } from '../../src/tasks/generate/seeded-random.ts';

/** The definition, in doubles with Math.exp: what the fast sum must agree with. */
function referenceLogSumExp(scores: Float32Array): number {
  let max = -Infinity;
  for (const score of scores) max = Math.max(max, score);
  let sum = 0;
  for (const score of scores) sum += Math.exp(score - max);
  return max + Math.log(sum);
}

function randomRow(length: number, spread: number, seed: number): Float32Array {
  const random = createSeededRandom(seed);
  return Float32Array.from({ length }, () => (random() - 0.5) * spread);
}

describe('logSumExp, the softmax normaliser read per token for log-probabilities', () => {
  it.each([
    [151_936, 20],
    [151_936, 200],
    [128_256, 2],
    [512, 60],
    [1, 10],
  ])('agrees with Math.exp to 1e-9 over %i scores spread over %i', (length, spread) => {
    for (const seed of [1, 2, 3]) {
      const row = randomRow(length, spread, seed);
      expect(Math.abs(logSumExp(row) - referenceLogSumExp(row))).toBeLessThan(1e-9 * Math.max(1, Math.abs(referenceLogSumExp(row))));
    }
  });

  it('ignores masked (-Infinity) scores, keeps scores past the range of Math.exp exact, and gives -Infinity or NaN where the definition does', () => {
    const masked = Float32Array.from([3, -Infinity, 1, -Infinity]);
    expect(logSumExp(masked)).toBeCloseTo(3 + Math.log(1 + Math.exp(-2)), 12);
    expect(logSumExp(Float32Array.from([800, 800]))).toBeCloseTo(800 + Math.LN2, 12);
    expect(logSumExp(Float32Array.from([-Infinity, -Infinity]))).toBe(-Infinity);
    expect(logSumExp(Float32Array.from([1, Number.NaN, 2]))).toBeNaN();
    // Every fraction of a power of two, where the table and polynomial meet.
    const steps = Float32Array.from({ length: 4001 }, (_, index) => -index / 64);
    expect(Math.abs(logSumExp(steps) - referenceLogSumExp(steps))).toBeLessThan(1e-10);
  });
});
