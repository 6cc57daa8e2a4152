import { describe, expect, it } from 'vitest';
import { measureTextInputs, selectBatch } from '../../src/serving/batch-selection.ts';
import type { RequestSize } from '../../src/spec/request-size.ts';

const one = (tokens: number): RequestSize => ({ rows: 1, longest: tokens, tokens });
const limits = { maxBatchSize: 8, maxBatchTokens: 4096, maxPaddingShare: 0.1 };

describe('choosing the requests of a batch', () => {
  it('always takes the oldest request, then those closest to it in length, in queue order', () => {
    expect(selectBatch([one(20), one(60), one(21), one(19), one(59)], limits)).toEqual([0, 2, 3]);
  });

  it('leaves out requests whose padding would pass the share allowed', () => {
    // 10 and 12: 2 padding tokens in 24, 8%. Adding 14 would make 6 in 42, 14%.
    expect(selectBatch([one(10), one(12), one(14)], limits)).toEqual([0, 1]);
    expect(selectBatch([one(10), one(12), one(14)], { ...limits, maxPaddingShare: 0.2 })).toEqual([0, 1, 2]);
  });

  it('stops at the row cap and the token cap, counting every text of a request', () => {
    const same = Array.from({ length: 12 }, () => one(30));
    expect(selectBatch(same, limits)).toHaveLength(8);
    expect(selectBatch([{ rows: 5, longest: 30, tokens: 150 }, { rows: 4, longest: 30, tokens: 120 }, one(30)], limits)).toEqual([0, 2]);
    expect(selectBatch(same, { ...limits, maxBatchTokens: 100 })).toEqual([0, 1, 2]);
  });

  it('sends a request larger than every cap alone rather than never', () => {
    expect(selectBatch([{ rows: 20, longest: 500, tokens: 9000 }, one(10)], limits)).toEqual([0]);
    expect(selectBatch([], limits)).toEqual([]);
  });
});

describe('sizing text requests', () => {
  it('counts rows and tokens with the given counter, long texts as several windows', () => {
    const words = (text: string) => text.split(' ').length;
    expect(measureTextInputs('a b c', words)).toEqual({ rows: 1, longest: 3, tokens: 3 });
    expect(measureTextInputs(['a b', 'a b c d'], words)).toEqual({ rows: 2, longest: 4, tokens: 6 });
    expect(measureTextInputs('a b c d e f g', words, 3)).toEqual({ rows: 3, longest: 3, tokens: 7 });
    expect(measureTextInputs({ not: 'text' })).toEqual({ rows: 1, longest: 1, tokens: 1 });
  });
});
