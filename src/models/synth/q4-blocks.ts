import { roundToFloat16, toFloat16Bits } from './float16.ts';

/** Elements per block: MatMulNBits `block_size` 32, ggml's QK4_0. */
export const Q4_BLOCK = 32;

/**
 * Symmetric 4-bit codes of a row-major [rows, columns] weight (rows = output features, as PyTorch and GGUF store
 * a linear layer), in blocks of 32 along each row: w ≈ (code - 8) · scale. Rounding is ggml's
 * quantize_row_q4_0_ref, and each scale is rounded to float16 (what Q4_0 stores), so the ONNX MatMulNBits and
 * the GGUF Q4_0 written from these codes dequantize to exactly the same weights.
 */
export interface Q4Codes {
  rows: number;
  columns: number;
  /** One code (0..15) per element, row-major. */
  codes: Uint8Array;
  /** [rows, columns / 32], float16-exact values. */
  scales: Float32Array;
}

export function quantizeQ4(weights: Float32Array, rows: number, columns: number): Q4Codes {
  if (columns % Q4_BLOCK !== 0) throw new Error(`a 4-bit weight needs a multiple of ${Q4_BLOCK} input features, not ${columns}`);
  const blocks = columns / Q4_BLOCK;
  const codes = new Uint8Array(rows * columns);
  const scales = new Float32Array(rows * blocks);
  for (let block = 0; block < rows * blocks; block++) {
    const start = block * Q4_BLOCK;
    let largest = 0;
    let extreme = 0;
    for (let offset = 0; offset < Q4_BLOCK; offset++) {
      const value = weights[start + offset];
      if (Math.abs(value) > largest) {
        largest = Math.abs(value);
        extreme = value;
      }
    }
    const scale = Math.fround(extreme / -8);
    const inverse = scale !== 0 ? Math.fround(1 / scale) : 0;
    for (let offset = 0; offset < Q4_BLOCK; offset++) {
      // (int8_t)(x + 8.5f) truncates toward zero; x + 8.5 is at least 0.5 here, so floor is the same.
      const code = Math.floor(Math.fround(Math.fround(weights[start + offset] * inverse) + 8.5));
      codes[start + offset] = Math.min(15, Math.max(0, code));
    }
    scales[block] = roundToFloat16(scale);
  }
  return { rows, columns, codes, scales };
}

/** MatMulNBits' B: [N, blocks, 16], two consecutive elements per byte, the first in the low nibble. */
export function packMatMulNBits(quantized: Q4Codes): Uint8Array {
  const packed = new Uint8Array(quantized.codes.length / 2);
  for (let index = 0; index < packed.length; index++) packed[index] = quantized.codes[2 * index] | (quantized.codes[2 * index + 1] << 4);
  return packed;
}

/** ggml's block_q4_0: a float16 scale, then 16 bytes holding elements j (low nibble) and j + 16 (high nibble). */
export function packQ4_0(quantized: Q4Codes): Uint8Array {
  const blockCount = quantized.scales.length;
  const packed = new Uint8Array(blockCount * 18);
  const view = new DataView(packed.buffer);
  for (let block = 0; block < blockCount; block++) {
    const target = block * 18;
    const source = block * Q4_BLOCK;
    view.setUint16(target, toFloat16Bits(quantized.scales[block]), true);
    for (let offset = 0; offset < 16; offset++) {
      packed[target + 2 + offset] = quantized.codes[source + offset] | (quantized.codes[source + offset + 16] << 4);
    }
  }
  return packed;
}

/** The weights the codes stand for, row-major [rows, columns]. */
export function dequantizeQ4(quantized: Q4Codes): Float32Array {
  const values = new Float32Array(quantized.codes.length);
  for (let index = 0; index < values.length; index++) {
    values[index] = (quantized.codes[index] - 8) * quantized.scales[Math.floor(index / Q4_BLOCK)];
  }
  return values;
}
