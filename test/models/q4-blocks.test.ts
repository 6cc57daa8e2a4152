import { describe, expect, it } from 'vitest';
import { fromFloat16Bits, roundToFloat16, toFloat16Bits } from '../../src/models/synth/float16.ts';
import { dequantizeQ4, packMatMulNBits, packQ4_0, quantizeQ4 } from '../../src/models/synth/q4-blocks.ts';

describe('the 4-bit block code shared by MatMulNBits and GGUF Q4_0', () => {
  // One row of 32 weights whose largest magnitude is negative, as in ggml's own reference quantizer test.
  const row = Float32Array.from({ length: 32 }, (_, index) => (index === 5 ? -1.6 : Math.sin(index) * 0.9));

  it('follows quantize_row_q4_0_ref: scale = extreme / -8, code = min(15, trunc(x / scale + 8.5))', () => {
    const quantized = quantizeQ4(row, 1, 32);
    expect(quantized.scales[0]).toBe(roundToFloat16(-1.6 / -8));
    expect(quantized.codes[5]).toBe(0);
    const scale = Math.fround(-1.6 / -8);
    row.forEach((value, index) => expect(quantized.codes[index]).toBe(Math.min(15, Math.floor(Math.fround(value * Math.fround(1 / scale)) + 8.5))));
    const restored = dequantizeQ4(quantized);
    row.forEach((value, index) => expect(Math.abs(restored[index] - value)).toBeLessThanOrEqual(quantized.scales[0] * 0.5 + 1e-3));
  });

  it('packs the same codes in each layout: pairs for MatMulNBits, j and j + 16 with a float16 scale for Q4_0', () => {
    const quantized = quantizeQ4(row, 1, 32);
    const pairs = packMatMulNBits(quantized);
    const block = packQ4_0(quantized);
    expect(block).toHaveLength(18);
    expect(fromFloat16Bits(block[0] | (block[1] << 8))).toBe(quantized.scales[0]);
    for (let index = 0; index < 32; index++) {
      const fromPairs = (pairs[index >> 1] >> ((index & 1) * 4)) & 15;
      const fromBlock = (block[2 + (index % 16)] >> (index < 16 ? 0 : 4)) & 15;
      expect(fromPairs).toBe(quantized.codes[index]);
      expect(fromBlock).toBe(quantized.codes[index]);
    }
  });

  it('rounds to float16 to nearest even, with subnormals and overflow', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(65520)).toBe(0x7c00);
    expect(toFloat16Bits(2 ** -24)).toBe(1);
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(fromFloat16Bits(toFloat16Bits(-0.1))).toBe(-0.0999755859375);
  });
});
