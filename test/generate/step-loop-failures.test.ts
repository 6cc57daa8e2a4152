import { describe, expect, it } from 'vitest';
import type { DecodeBatch } from '../../src/tasks/generate/batched-cache.ts';
import type { BatchedDecoding } from '../../src/tasks/generate/generative-model.ts';
import type { DoneEvent, FinishReason, GenerationSequence, TokenEvent } from '../../src/tasks/generate/generation-sequence.ts';
import { createStepLoop } from '../../src/tasks/generate/step-loop.ts';

/** A decoding with no model: every row's scores pick token 7. */
function createFakeDecoding(): BatchedDecoding {
  const batchOf = (rows: number): DecodeBatch => ({ lengths: Array(rows).fill(1), width: 1, past: new Map() });
  const scores = (rows: number) => Array.from({ length: rows }, () => Float32Array.from([0, 0, 0, 0, 0, 0, 0, 1]));
  return {
    empty: batchOf(0),
    prefill: async (prompts) => ({ batch: batchOf(prompts.length), scores: scores(prompts.length) }),
    step: async (batch, tokens) => ({ batch: batchOf(tokens.length), scores: scores(batch.lengths.length) }),
    keep: (_batch, rows) => batchOf(rows.length),
    join: (first, second) => batchOf(first.lengths.length + second.lengths.length),
  };
}

/** A sequence that ends after `tokens` tokens, or throws on its `throwAt`-th token (a grammar that cannot go on). */
function createSequence(tokens: number, throwAt?: number): GenerationSequence {
  const ids: number[] = [];
  let finishReason: FinishReason | undefined;
  return {
    get finishReason() {
      return finishReason;
    },
    accept(scores): TokenEvent {
      if (ids.length + 1 === throwAt) throw new Error('no token the grammar allows');
      const id = scores.indexOf(Math.max(...scores));
      ids.push(id);
      if (ids.length === tokens) finishReason = 'length';
      return { kind: 'token', id, text: 'x', special: false };
    },
    finish(): DoneEvent {
      return { kind: 'done', generatedText: 'x'.repeat(ids.length), finishReason: finishReason!, tokenIds: ids, promptTokens: 1, seed: 0 };
    },
  };
}

async function collect(events: AsyncGenerator<unknown>): Promise<unknown[]> {
  const all: unknown[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('the shared step loop when one sequence fails', () => {
  it('fails that request alone; the others in the same batch finish, and the loop serves later requests', async () => {
    const loop = createStepLoop(createFakeDecoding());
    const failing = collect(loop.generate([1], createSequence(5, 3)));
    const healthy = collect(loop.generate([1], createSequence(5)));
    await expect(failing).rejects.toThrow('no token the grammar allows');
    const events = await healthy;
    expect(events).toHaveLength(6);
    expect(events.at(-1)).toMatchObject({ kind: 'done', tokenIds: [7, 7, 7, 7, 7] });

    const later = await collect(loop.generate([1], createSequence(2)));
    expect(later.at(-1)).toMatchObject({ kind: 'done', tokenIds: [7, 7] });
    expect(loop.activeCount).toBe(0);
  });

  it('fails a request whose first token (chosen at prefill) cannot be made', async () => {
    const loop = createStepLoop(createFakeDecoding());
    await expect(collect(loop.generate([1], createSequence(5, 1)))).rejects.toThrow('no token the grammar allows');
    expect(loop.activeCount).toBe(0);
  });
});
