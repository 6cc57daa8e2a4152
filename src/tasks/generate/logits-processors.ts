import { computeWeights, createScoreRow, type LogitsProcessor, type ScoreRow } from './score-row.ts';
import { findKthLargest, selectHeaviest } from './select-largest.ts';
import { logSumExp } from './log-sum-exp.ts';

/**
 * The logits processors of Hugging Face `generate`, with the same semantics, as stages of a chain: repetition
 * penalty, then temperature, top-k and top-p (HF's order). Each works on a `ScoreRow` in place.
 */

/**
 * HF `RepetitionPenaltyLogitsProcessor`: every token already in the sequence (prompt included) has its
 * score divided by `penalty` when positive and multiplied by it when negative, once however often it occurs.
 */
export function createRepetitionPenalty(penalty: number): LogitsProcessor {
  return {
    name: 'repetition_penalty',
    apply: (row, context) => {
      penalizeRepetitions(row.scores, context.sequence, penalty);
      row.weights = undefined;
    },
  };
}

function penalizeRepetitions(scores: Float32Array, previousIds: Iterable<number>, penalty: number): void {
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

/** Ids that may not be chosen now (end-of-sequence before `min_new_tokens`). */
export function createSuppression(ids: readonly number[]): LogitsProcessor {
  return {
    name: 'suppress',
    apply: (row) => {
      for (const id of ids) if (id >= 0 && id < row.scores.length) row.scores[id] = -Infinity;
      row.weights = undefined;
    },
  };
}

/**
 * Divides by the temperature. A temperature so small that the quotients overflow (1e-308) would make every score
 * ±Infinity and the softmax NaN; the scores are then shifted so that the best is 0 first (softmax does not see a
 * shift), which leaves the best at 0 and sends the rest to -Infinity: greedy decoding, the limit as it falls to 0.
 * Only the candidates are divided where a processor has narrowed the row: the rest can no longer be chosen.
 */
export function createTemperature(temperature: number): LogitsProcessor {
  return {
    name: 'temperature',
    apply: (row) => {
      if (temperature === 1) return;
      const { scores, candidates } = row;
      const length = candidates ? candidates.length : scores.length;
      let largest = 0;
      let best = -Infinity;
      for (let position = 0; position < length; position++) {
        const score = scores[candidates ? candidates[position] : position];
        if (score > best) best = score;
        if (score !== -Infinity && Math.abs(score) > largest) largest = score < 0 ? -score : score;
      }
      const shift = largest / temperature >= FLOAT32_MAX && Number.isFinite(best) ? best : 0;
      if (candidates) for (const id of candidates) scores[id] = (scores[id] - shift) / temperature;
      else for (let id = 0; id < scores.length; id++) scores[id] = (scores[id] - shift) / temperature;
      row.weights = undefined;
    },
  };
}

/** HF `TopKLogitsWarper`: scores below the k-th largest are dropped (ties with it stay), by a heap, not a sort. */
export function createTopK(topK: number): LogitsProcessor {
  return { name: 'top_k', apply: (row) => keepTopK(row, topK) };
}

function keepTopK(row: ScoreRow, topK: number): void {
  const { scores, candidates } = row;
  const length = candidates ? candidates.length : scores.length;
  if (topK <= 0 || topK >= length) return;
  const threshold = findKthLargest(scores, topK, candidates);
  const kept: number[] = [];
  if (candidates) {
    for (const id of candidates) if (scores[id] >= threshold) kept.push(id);
  } else {
    for (let id = 0; id < length; id++) if (scores[id] >= threshold) kept.push(id);
  }
  row.candidates = Int32Array.from(kept);
  row.weights = undefined;
}

/**
 * HF `TopPLogitsWarper`: sorted from least to most likely, tokens are dropped while the cumulative probability
 * stays at or below 1 - topP; the most likely token always stays. Here the same set is taken from the top: the
 * most likely tokens are selected in growing batches until their probability reaches `topP`, so a peaked
 * distribution never sorts the vocabulary. It leaves the kept tokens' weights for the draw.
 */
export function createTopP(topP: number, scratch?: () => Float64Array): LogitsProcessor {
  return { name: 'top_p', apply: (row) => keepTopP(row, topP, scratch?.()) };
}

const FIRST_TOP_P_BATCH = 256;

function keepTopP(row: ScoreRow, topP: number, scratch?: Float64Array): void {
  if (topP >= 1) return;
  const weights = row.weights ?? computeWeights(row, scratch);
  const { values, sum } = weights;
  if (sum === 0) return;
  let keptCount = 0;
  for (let batch = FIRST_TOP_P_BATCH; keptCount === 0; batch *= 4) {
    const order = selectHeaviest(values, batch);
    let cumulative = 0;
    for (let rank = 0; rank < order.length; rank++) {
      // The token at this rank stays while the tokens above it hold less than topP (the first always stays).
      if (rank > 0 && cumulative >= topP) {
        keptCount = rank;
        break;
      }
      cumulative += values[order[rank]] / sum;
    }
    if (keptCount === 0 && order.length === values.length) keptCount = order.length;
    if (keptCount === 0) continue;
    const keptPositions = order.subarray(0, keptCount).sort();
    const ids = row.candidates;
    const keptValues = new Float64Array(keptCount);
    let keptSum = 0;
    for (let index = 0; index < keptCount; index++) keptSum += keptValues[index] = values[keptPositions[index]];
    row.candidates = ids ? Int32Array.from(keptPositions, (position) => ids[position]) : keptPositions;
    row.weights = { values: keptValues, sum: keptSum, max: weights.max };
  }
}

/** The whole-row forms of the processors, for callers holding a plain row of scores. */
function applyToWholeRow(scores: Float32Array, processor: LogitsProcessor, sequence: readonly number[] = []): void {
  const row = createScoreRow(scores);
  processor.apply(row, { sequence });
  if (!row.candidates) return;
  const keep = new Uint8Array(scores.length);
  for (const id of row.candidates) keep[id] = 1;
  for (let id = 0; id < scores.length; id++) if (!keep[id]) scores[id] = -Infinity;
}

export function applyRepetitionPenalty(scores: Float32Array, previousIds: Iterable<number>, penalty: number): void {
  penalizeRepetitions(scores, previousIds, penalty);
}

export function applyTemperature(scores: Float32Array, temperature: number): void {
  applyToWholeRow(scores, createTemperature(temperature));
}

export function applyTopK(scores: Float32Array, topK: number): void {
  applyToWholeRow(scores, createTopK(topK));
}

export function applyTopP(scores: Float32Array, topP: number): void {
  applyToWholeRow(scores, createTopP(topP));
}

export function logSoftmaxAt(scores: Float32Array, index: number): number {
  return scores[index] - logSumExp(scores);
}
