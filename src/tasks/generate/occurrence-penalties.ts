import type { LogitsProcessor } from './score-row.ts';

/**
 * OpenAI's frequency and presence penalties: a token's score drops by `frequency` for every time it was already
 * generated and by `presence` once if it was generated at all. Only generated tokens count, not the prompt (as
 * OpenAI and vLLM define them); negative values make repeats more likely. Works in place on one row of scores.
 */
export function applyOccurrencePenalties(scores: Float32Array, generatedIds: readonly number[], frequency: number, presence: number): void {
  if ((frequency === 0 && presence === 0) || generatedIds.length === 0) return;
  const counts = new Map<number, number>();
  for (const id of generatedIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const [id, count] of counts) {
    if (id < 0 || id >= scores.length) continue;
    scores[id] -= count * frequency + presence;
  }
}

/** The penalties as the first processor of the sampling chain; `generatedIds` is the generation's own, growing list. */
export function createOccurrencePenalties(frequency: number, presence: number, generatedIds: readonly number[]): LogitsProcessor {
  return {
    name: 'occurrence_penalties',
    apply: (row) => {
      if (generatedIds.length === 0) return;
      applyOccurrencePenalties(row.scores, generatedIds, frequency, presence);
      row.weights = undefined;
    },
  };
}
