import type { Tensor } from './engine.ts';

/** Packs rows of token ids into an int64 [rows, width] tensor, right-padded with `padValue`. */
export function createInt64Matrix(rows: readonly (readonly number[])[], width: number, padValue = 0): Tensor {
  const data = new BigInt64Array(rows.length * width);
  const pad = BigInt(padValue);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const length = Math.min(row.length, width);
    for (let c = 0; c < length; c++) data[r * width + c] = BigInt(row[c]);
    // A new array is all zeros: only a non-zero pad id is written, and only where a row is shorter than the width.
    if (pad !== 0n) data.fill(pad, r * width + length, (r + 1) * width);
  }
  return { type: 'int64', data, dims: [rows.length, width] };
}

/** An attention mask for right-padded rows: 1 on real positions, 0 on padding. */
export function createAttentionMask(lengths: readonly number[], width: number): Tensor {
  const data = new BigInt64Array(lengths.length * width);
  lengths.forEach((length, r) => data.fill(1n, r * width, r * width + Math.min(length, width)));
  return { type: 'int64', data, dims: [lengths.length, width] };
}

export function createFloat32Tensor(data: Float32Array, dims: readonly number[]): Tensor {
  return { type: 'float32', data, dims };
}

/** Reads a float tensor's values as a Float32Array, whatever float type the model emits. */
export function readFloat32(tensor: Tensor): Float32Array {
  if (tensor.data instanceof Float32Array) return tensor.data;
  throw new TypeError(`expected a float32 tensor, got ${tensor.type}`);
}
