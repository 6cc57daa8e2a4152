import type { ResolvedGenerationOptions } from './generation-options.ts';
import {
  createRepetitionPenalty,
  createSuppression,
  createTemperature,
  createTopK,
  createTopP,
  logSoftmaxAt,
} from './logits-processors.ts';
import { computeWeights, createScoreRow, type LogitsProcessor, type ScoreRow } from './score-row.ts';
import { argmax } from '../scores.ts';
import type { RandomSource } from './seeded-random.ts';

export interface TokenChoice {
  id: number;
  /**
   * Log-probability of the choice under the distribution it was drawn from (after the processors); left out
   * when the caller did not ask for it, because it costs a pass over the whole vocabulary.
   */
  logprob?: number;
}

export type ChoiceOptions = Pick<ResolvedGenerationOptions, 'sampling' | 'temperature' | 'topK' | 'topP' | 'repetitionPenalty'> & {
  /** Tokens that may not be chosen now (end-of-sequence before the minimum length). */
  suppressedIds?: readonly number[];
  /** Processors that run before the built-in ones, in order (a grammar's mask). */
  processors?: readonly LogitsProcessor[];
};

export interface ChoiceHandling {
  /** The caller owns `modelScores` and will not read them again, so they may be changed in place instead of copied. */
  scoresAreScratch?: boolean;
  /** Compute the choice's log-probability (streaming answers show it). On by default. */
  withLogprob?: boolean;
  /** A buffer of at least a vocabulary's length for the softmax, kept by the caller from step to step. */
  scratch?: Float64Array;
}

/**
 * The ordered chain for a generation's options: the caller's processors (a grammar mask), then Hugging Face's
 * order: repetition penalty, suppressed ids, and when sampling temperature, top-k and top-p. The softmax and the
 * draw follow the chain (`chooseFromRow`).
 */
export function createLogitsProcessors(options: ChoiceOptions, scratch?: () => Float64Array): LogitsProcessor[] {
  const chain: LogitsProcessor[] = [...(options.processors ?? [])];
  if (options.repetitionPenalty !== 1) chain.push(createRepetitionPenalty(options.repetitionPenalty));
  if ((options.suppressedIds?.length ?? 0) > 0) chain.push(createSuppression(options.suppressedIds ?? []));
  if (options.sampling) {
    if (options.temperature !== 1) chain.push(createTemperature(options.temperature));
    if (options.topK > 0) chain.push(createTopK(options.topK));
    if (options.topP < 1) chain.push(createTopP(options.topP, scratch));
  }
  return chain;
}

/** Draws a candidate position with probability proportional to its weight: the old whole-row draw, to the last bit. */
function drawPosition(values: Float64Array, sum: number, random: RandomSource): number {
  const target = random();
  let cumulative = 0;
  let last = 0;
  for (let position = 0; position < values.length; position++) {
    const probability = values[position] / sum;
    if (probability === 0) continue;
    cumulative += probability;
    last = position;
    if (target < cumulative) return position;
  }
  // Rounding can leave the sum a hair under 1; the draw then belongs to the last possible token.
  return last;
}

/** The first id of the highest score among the row's candidates (or the whole row), as `torch.argmax` picks. */
function argmaxOfRow(row: ScoreRow): number {
  const { scores, candidates } = row;
  if (!candidates) return argmax(scores);
  let best = candidates[0] ?? 0;
  for (const id of candidates) if (scores[id] > scores[best]) best = id;
  return best;
}

function logSoftmaxOfRow(row: ScoreRow, id: number): number {
  if (!row.candidates) return logSoftmaxAt(row.scores, id);
  const { max, sum } = row.weights ?? computeWeights(row);
  return row.scores[id] - max - Math.log(sum);
}

/** Greedy: the argmax after the chain; sampling: one softmax over what the chain left, and a draw from it. */
export function chooseFromRow(row: ScoreRow, sampling: boolean, random: RandomSource, withLogprob: boolean, scratch?: Float64Array): TokenChoice {
  if (!sampling) {
    const id = argmaxOfRow(row);
    return withLogprob ? { id, logprob: logSoftmaxOfRow(row, id) } : { id };
  }
  const { values, sum, max } = row.weights ?? computeWeights(row, scratch);
  const position = drawPosition(values, sum, random);
  const id = row.candidates ? row.candidates[position] : position;
  return withLogprob ? { id, logprob: row.scores[id] - max - Math.log(sum) } : { id };
}

/** True when no processor would change the scores: the choice is the argmax of the model's own row. */
function isPlainGreedy(options: ChoiceOptions): boolean {
  return (
    !options.sampling &&
    options.repetitionPenalty === 1 &&
    (options.suppressedIds?.length ?? 0) === 0 &&
    (options.processors?.length ?? 0) === 0
  );
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
  const row = createScoreRow(handling.scoresAreScratch ? modelScores : Float32Array.from(modelScores));
  const scratch = handling.scratch;
  for (const processor of createLogitsProcessors(options, scratch && (() => scratch))) processor.apply(row, { sequence });
  return chooseFromRow(row, options.sampling, random, withLogprob, scratch);
}
