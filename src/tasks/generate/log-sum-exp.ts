// 2^k for k in [-64, 0]: the integer part of an exponent, read from a table.
const POWERS_OF_TWO = Float64Array.from({ length: 65 }, (_, index) => 2 ** (index - 64));
const LOG2_E = Math.LOG2E;

/**
 * Σ exp(score − max) over a row whose largest score is `max`. Read once per generated token when log-probabilities
 * are asked for (the /v1 routes, confidences), over 150k+ scores: Math.exp costs ~3 ms a row here, so each term is
 * 2^x with x split into a table power and a degree-8 polynomial on [-0.5, 0.5] (relative error under 1e-8, below
 * float32 logits' own). Terms under 2^-60 of the largest are left out: they cannot move a double sum.
 */
function sumExponentials(scores: Float32Array, max: number): number {
  let sum = 0;
  for (let index = 0; index < scores.length; index++) {
    const exponent = (scores[index] - max) * LOG2_E;
    // NaN is not below -60: it reaches the sum and makes it NaN, as Math.exp would.
    if (exponent < -60) continue;
    // Math.floor(x + 0.5), not Math.round: V8 runs it several times faster in this loop.
    const whole = Math.floor(exponent + 0.5);
    const f = exponent - whole;
    // 2^f = e^(f ln 2), Taylor to the 8th power of f ln 2 (|f ln 2| ≤ 0.35).
    const power =
      1 +
      f *
        (0.6931471805599453 +
          f *
            (0.2402265069591007 +
              f *
                (0.05550410866482158 +
                  f * (0.009618129107628477 + f * (0.0013333558146428443 + f * (0.00015403530393381608 + f * (1.525273380405984e-5 + f * 1.3215486790144307e-6)))))));
    sum += power * POWERS_OF_TWO[whole + 64];
  }
  return sum;
}

/** log Σ exp(scores): the softmax's normaliser, so that a token's log-probability is its score minus this. */
export function logSumExp(scores: Float32Array): number {
  let max = -Infinity;
  for (let index = 0; index < scores.length; index++) if (scores[index] > max) max = scores[index];
  if (max === -Infinity) return -Infinity;
  return max + Math.log(sumExponentials(scores, max));
}
