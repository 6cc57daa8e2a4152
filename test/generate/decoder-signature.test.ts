import { describe, expect, it } from 'vitest';
import type { EngineSession, ValueMetadata } from '../../src/engine/engine.ts';
import { widenFloat16 } from '../../src/engine/float16.ts';
import { createDecoderFeeds } from '../../src/tasks/generate/decoder-feeds.ts';
import { readDecoderSignature } from '../../src/tasks/generate/decoder-signature.ts';

const config = { num_attention_heads: 4, num_key_value_heads: 2, hidden_size: 16, vocab_size: 50 };

/** The metadata of a graph with these inputs and outputs; the signature reads nothing else. */
function sessionWith(inputs: ValueMetadata[], outputs: ValueMetadata[]): EngineSession {
  return { inputs, outputs, executionProvider: 'cpu', run: () => Promise.reject(new Error('not run')), release: async () => {} };
}

const value = (name: string, type = 'int64', shape: (number | string)[] = ['batch_size', 'sequence_length']): ValueMetadata => ({ name, type, shape });
const cache = (layers: number, type = 'float32', prefix = 'past_key_values') =>
  Array.from({ length: layers }, (_, layer) => ['key', 'value'].map((kind) => value(`${prefix}.${layer}.${kind}`, type, ['batch_size', 2, 'past_sequence_length', 4]))).flat();
const logits = (type = 'float32') => value('logits', type, ['batch_size', 'sequence_length', 50]);

describe('decoder signatures, read from the graph inputs and outputs', () => {
  it('names the input a causal LM needs when the graph lacks it', () => {
    expect(() => readDecoderSignature(sessionWith([value('tokens')], [logits()]), config)).toThrow(/no input_ids input.*it takes tokens/);
    expect(() => readDecoderSignature(sessionWith([value('input_ids')], [value('scores')]), config)).toThrow(/no logits output.*it gives scores/);
  });

  it('refuses an input it cannot fill, naming it and what it fills', () => {
    expect(() => readDecoderSignature(sessionWith([value('input_ids'), value('pixel_values')], [logits()]), config)).toThrow(
      /unsupported model inputs: pixel_values \(honnx fills input_ids, attention_mask, position_ids/,
    );
  });

  it('names the cache outputs a graph with cache inputs leaves out', () => {
    const inputs = [value('input_ids'), ...cache(2)];
    const outputs = [logits(), ...cache(1, 'float32', 'present')];
    expect(() => readDecoderSignature(sessionWith(inputs, outputs), config)).toThrow(/does not return present\.1\.key, present\.1\.value/);
  });

  it('accepts cache_position, logits_to_keep and GroupQueryAttention inputs, and batches only where rows can be padded', () => {
    const optimum = readDecoderSignature(
      sessionWith([value('input_ids'), value('attention_mask'), value('position_ids'), value('cache_position', 'int64', ['sequence_length']), value('logits_to_keep', 'int64', []), ...cache(2, 'float16')], [
        logits('float16'),
        ...cache(2, 'float16', 'present'),
      ]),
      config,
    );
    expect(optimum).toMatchObject({ canBatch: true, hasCache: true, logitsToKeepInput: 'logits_to_keep', cacheType: 'float16', logitsType: 'float16', cacheHeads: 2, cacheHeadDimension: 4, vocabulary: 50 });
    const grouped = readDecoderSignature(
      sessionWith([value('input_ids'), value('attention_mask'), value('position_ids'), value('seqlens_k', 'int32', ['batch_size']), value('total_sequence_length', 'int32', []), ...cache(2)], [logits(), ...cache(2, 'float32', 'present')]),
      config,
    );
    expect(grouped.canBatch).toBe(false);
    expect(grouped.hasCache).toBe(true);
  });

  it('fills each declared input for a chunk of left-padded rows', () => {
    const signature = readDecoderSignature(
      sessionWith(
        [value('input_ids'), value('attention_mask'), value('position_ids'), value('cache_position'), value('seqlens_k'), value('total_sequence_length'), value('num_logits_to_keep')],
        [logits()],
      ),
      config,
    );
    // Row 0 holds 2 entries and gets 2 tokens; row 1 holds 1 and gets 1, right-aligned after a 3-wide cache.
    const feeds = createDecoderFeeds(signature, { before: [2, 1], rows: [[7, 8], [9]], width: 2, pastWidth: 3 });
    expect(Array.from(feeds.input_ids.data, Number)).toEqual([7, 8, 0, 9]);
    expect(Array.from(feeds.position_ids.data, Number)).toEqual([2, 3, 0, 1]);
    expect(Array.from(feeds.attention_mask.data, Number)).toEqual([0, 1, 1, 1, 1, 0, 0, 0, 1, 1]);
    expect(Array.from(feeds.cache_position.data, Number)).toEqual([3, 4]);
    expect(Array.from(feeds.seqlens_k.data as Int32Array)).toEqual([3, 1]);
    expect(Array.from(feeds.total_sequence_length.data as Int32Array)).toEqual([5]);
    expect(Array.from(feeds.num_logits_to_keep.data, Number)).toEqual([1]);
  });
});

describe('float16 widening', () => {
  it('maps half-precision bit patterns to their values, subnormals and specials included', () => {
    const bits = Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555);
    const values = Array.from(widenFloat16(bits));
    expect(values.slice(0, 8)).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, -0, Infinity, -Infinity]);
    expect(values[8]).toBeNaN();
    expect(values[9]).toBeCloseTo(1 / 3, 3);
  });

  it('writes into the target it is given', () => {
    const target = new Float32Array(4).fill(9);
    widenFloat16(Uint16Array.of(0x4000, 0x4200), target.subarray(1, 3));
    expect(Array.from(target)).toEqual([9, 2, 3, 9]);
  });
});
