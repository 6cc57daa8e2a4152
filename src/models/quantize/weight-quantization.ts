/**
 * The arithmetic of weight quantization, on plain typed arrays: no ONNX here, so each scheme can be checked
 * against its dequantization formula on its own.
 */

/** uint8 weights with one scale and zero point per output column: w ≈ (q - zeroPoint[n]) · scale[n]. */
export interface ColumnQuantized {
  /** Row-major [K, N], the same layout as the float weights. */
  values: Uint8Array;
  scales: Float32Array;
  zeroPoints: Uint8Array;
}

/**
 * Asymmetric per-column uint8 quantization of a [K, N] MatMul weight. Each column's range is widened to
 * include 0, so that 0 stays exact, as ONNX Runtime's own quantizer does. uint8 weights (rather than int8)
 * keep MatMulInteger on the u8·u8 kernels, which cannot saturate on AVX2 machines without VNNI.
 */
export function quantizeColumnsUint8(weights: Float32Array, rows: number, columns: number): ColumnQuantized {
  const values = new Uint8Array(rows * columns);
  const scales = new Float32Array(columns);
  const zeroPoints = new Uint8Array(columns);
  for (let column = 0; column < columns; column++) {
    let low = 0;
    let high = 0;
    for (let row = 0; row < rows; row++) {
      const value = weights[row * columns + column];
      if (value < low) low = value;
      if (value > high) high = value;
    }
    const scale = Math.fround(high > low ? (high - low) / 255 : 1);
    const zeroPoint = clamp(Math.round(-low / scale), 0, 255);
    scales[column] = scale;
    zeroPoints[column] = zeroPoint;
    for (let row = 0; row < rows; row++) {
      const index = row * columns + column;
      values[index] = clamp(Math.round(weights[index] / scale) + zeroPoint, 0, 255);
    }
  }
  return { values, scales, zeroPoints };
}

/** int8 rows with one scale each and no zero point: row r ≈ q[r] · scale[r]. */
export interface RowQuantized {
  values: Int8Array;
  scales: Float32Array;
}

/**
 * Symmetric per-row int8 quantization of an embedding table [rows, width]. Rows differ widely in norm (rare
 * tokens are small), so each row gets its own scale; after a Gather only the scales of the gathered rows matter.
 */
export function quantizeRowsInt8(table: Float32Array, rows: number, width: number): RowQuantized {
  const values = new Int8Array(rows * width);
  const scales = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    let largest = 0;
    for (let column = 0; column < width; column++) largest = Math.max(largest, Math.abs(table[row * width + column]));
    const scale = Math.fround(largest > 0 ? largest / 127 : 1);
    scales[row] = scale;
    for (let column = 0; column < width; column++) {
      const index = row * width + column;
      values[index] = clamp(Math.round(table[index] / scale), -127, 127);
    }
  }
  return { values, scales };
}

/** 4-bit block-wise weights in the layout of com.microsoft MatMulNBits. */
export interface BlockQuantized4Bit {
  /** [N, blockCount, blockSize / 2]: each byte holds two consecutive K positions, the first in the low nibble. */
  packed: Uint8Array;
  /** [N, blockCount]. */
  scales: Float32Array;
  /** [N, ceil(blockCount / 2)]: two 4-bit zero points per byte, the even block in the low nibble. */
  zeroPoints: Uint8Array;
  blockCount: number;
}

/**
 * Asymmetric 4-bit quantization of a [K, N] weight in blocks of `blockSize` along K, per output column:
 * w[k, n] ≈ (q - zeroPoint[n, b]) · scale[n, b] with b = floor(k / blockSize). A last partial block is padded
 * with zeros, which MatMulNBits never reads past K.
 */
export function quantizeBlocks4Bit(weights: Float32Array, rows: number, columns: number, blockSize: number): BlockQuantized4Bit {
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) throw new Error(`block size must be a power of two of at least 16, not ${blockSize}`);
  const blockCount = Math.ceil(rows / blockSize);
  const blobSize = blockSize / 2;
  const zeroPointBytes = Math.ceil(blockCount / 2);
  const packed = new Uint8Array(columns * blockCount * blobSize);
  const scales = new Float32Array(columns * blockCount);
  const zeroPoints = new Uint8Array(columns * zeroPointBytes);
  for (let column = 0; column < columns; column++) {
    for (let block = 0; block < blockCount; block++) {
      const start = block * blockSize;
      const end = Math.min(start + blockSize, rows);
      let low = 0;
      let high = 0;
      for (let row = start; row < end; row++) {
        const value = weights[row * columns + column];
        if (value < low) low = value;
        if (value > high) high = value;
      }
      const scale = Math.fround(high > low ? (high - low) / 15 : 1);
      const zeroPoint = clamp(Math.round(-low / scale), 0, 15);
      scales[column * blockCount + block] = scale;
      zeroPoints[column * zeroPointBytes + (block >> 1)] |= (block & 1) === 0 ? zeroPoint : zeroPoint << 4;
      const blob = (column * blockCount + block) * blobSize;
      for (let offset = 0; offset < blockSize; offset++) {
        const row = start + offset;
        const quantized = row < end ? clamp(Math.round(weights[row * columns + column] / scale) + zeroPoint, 0, 15) : zeroPoint;
        packed[blob + (offset >> 1)] |= (offset & 1) === 0 ? quantized : quantized << 4;
      }
    }
  }
  return { packed, scales, zeroPoints, blockCount };
}

/** [rows, columns] → [columns, rows], for Gemm weights stored transposed (transB = 1). */
export function transpose(values: Float32Array, rows: number, columns: number): Float32Array {
  const result = new Float32Array(values.length);
  for (let row = 0; row < rows; row++) for (let column = 0; column < columns; column++) result[column * rows + row] = values[row * columns + column];
  return result;
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}
