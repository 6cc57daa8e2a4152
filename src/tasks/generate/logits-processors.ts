import { softmaxOfVocabulary } from '../scores.ts';

/**
 * The logits transforms of Hugging Face `generate`, with the same semantics, applied in its order:
 * repetition penalty, then temperature, top-k and top-p. Each works in place on one row of scores.
 */

/**
 * HF `RepetitionPenaltyLogitsProcessor`: every token already in the sequence (prompt included) has its
 * score divided by `penalty` when positive and multiplied by it when negative, once however often it occurs.
 */
export function applyRepetitionPenalty(scores: Float32Array, previousIds: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(previousIds)) {
    if (id < 0 || id >= scores.length) continue;
    const score = scores[id];
    // A tiny penalty would push a score to +Infinity, and a softmax over two of them is NaN; the largest finite
    // score keeps the limit's meaning (the seen tokens tie above every other).
    scores[id] = score < 0 ? score * penalty : Math.min(score / penalty, FLOAT32_MAX);
  }
}

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Divides by the temperature. A temperature so small that the quotients overflow (1e-308) would make every score
 * ±Infinity and the softmax NaN; the scores are then shifted so that the best is 0 first (softmax does not see a
 * shift), which leaves the best at 0 and sends the rest to -Infinity: greedy decoding, the limit as it falls to 0.
 */
export function applyTemperature(scores: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  let largest = 0;
  let best = -Infinity;
  for (const score of scores) {
    if (score > best) best = score;
    if (score !== -Infinity && Math.abs(score) > largest) largest = score < 0 ? -score : score;
  }
  const shift = largest / temperature >= FLOAT32_MAX && Number.isFinite(best) ? best : 0;
  for (let i = 0; i < scores.length; i++) scores[i] = (scores[i] - shift) / temperature;
}

/** HF `TopKLogitsWarper`: scores below the k-th largest become -Infinity (ties with it stay). */
export function applyTopK(scores: Float32Array, topK: number): void {
  if (topK <= 0 || topK >= scores.length) return;
  const threshold = Float32Array.from(scores).sort().reverse()[topK - 1];
  for (let i = 0; i < scores.length; i++) if (scores[i] < threshold) scores[i] = -Infinity;
}

/**
 * HF `TopPLogitsWarper`: sorted from least to most likely, tokens are dropped while the cumulative
 * probability stays at or below 1 - topP; the most likely token always stays.
 */
export function applyTopP(scores: Float32Array, topP: number): void {
  if (topP >= 1) return;
  const probabilities = softmaxOfVocabulary(scores);
  // Tokens already at -Infinity (top-k) have probability 0 and change nothing, so only the rest are sorted.
  const order = Array.from(scores.keys())
    .filter((index) => scores[index] !== -Infinity)
    .sort((a, b) => probabilities[a] - probabilities[b]);
  let cumulative = 0;
  for (let rank = 0; rank < order.length - 1; rank++) {
    cumulative += probabilities[order[rank]];
    if (cumulative > 1 - topP) break;
    scores[order[rank]] = -Infinity;
  }
}

export function logSoftmaxAt(scores: Float32Array, index: number): number {
  let max = -Infinity;
  for (const score of scores) if (score > max) max = score;
  let sum = 0;
  for (const score of scores) sum += Math.exp(score - max);
  return scores[index] - max - Math.log(sum);
}
