/**
 * One row of next-token scores on its way through the logits processors. Processors narrow it instead of writing
 * -Infinity over the whole vocabulary where they can: top-k leaves a list of candidates, and what follows (top-p,
 * the softmax, the draw) looks at those alone.
 */
export interface ScoreRow {
  /** One score per vocabulary id; processors change it in place (the chooser's copy, or the caller's scratch row). */
  readonly scores: Float32Array;
  /**
   * The ids still possible, ascending, once a processor has narrowed the row; undefined while every id is (an id
   * at -Infinity is then impossible all the same).
   */
  candidates: Int32Array | undefined;
  /**
   * `exp(score - max)` of each candidate (of each id when there are no candidates) and their sum, left by top-p
   * for the draw so the exponentials are taken once. A processor that changes scores after them clears them.
   */
  weights: { values: Float64Array; sum: number; max: number } | undefined;
}

/** What a processor may know about the sequence: the decoder's ids so far (prompt included for decoder-only models). */
export interface StepContext {
  readonly sequence: readonly number[];
}

/**
 * One stage of sampling, applied in the chain's order. A stateful processor (a grammar) is told each chosen token
 * by `accept`, after the choice and before the next row.
 */
export interface LogitsProcessor {
  readonly name: string;
  apply(row: ScoreRow, context: StepContext): void;
  accept?(id: number): void;
}

export function createScoreRow(scores: Float32Array): ScoreRow {
  return { scores, candidates: undefined, weights: undefined };
}

/** How many ids the row still holds (its candidates, or the whole vocabulary). */
export function countPossible(row: ScoreRow): number {
  return row.candidates ? row.candidates.length : row.scores.length;
}

/**
 * Fills `row.weights` with `exp(score - max)` per candidate, summed in id order: the same sum, to the last bit, as a
 * softmax over the whole row with the others at -Infinity, so a draw from it picks what that softmax would.
 */
export function computeWeights(row: ScoreRow, scratch?: Float64Array): NonNullable<ScoreRow['weights']> {
  const { scores, candidates } = row;
  const length = candidates ? candidates.length : scores.length;
  const values = scratch && scratch.length >= length ? scratch.subarray(0, length) : new Float64Array(length);
  let max = -Infinity;
  for (let position = 0; position < length; position++) {
    const score = scores[candidates ? candidates[position] : position];
    if (score > max) max = score;
  }
  let sum = 0;
  if (max !== -Infinity) {
    for (let position = 0; position < length; position++) {
      sum += values[position] = Math.exp(scores[candidates ? candidates[position] : position] - max);
    }
  } else {
    values.fill(0);
  }
  row.weights = { values, sum, max };
  return row.weights;
}
