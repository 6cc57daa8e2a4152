import type { Tensor } from '../../engine/engine.ts';

/** IEEE 754 half precision to a JavaScript number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * The next-token scores of each row from a `logits` output [batch, sequence, vocabulary]: the last position of
 * every row. Float32 rows are views into the output, not copies (the output is fresh for every run, so its owner
 * may change them); float16 models (the `_fp16` and `q4f16` exports) have their scores widened to float32.
 */
export function readLastScoreRows(logits: Tensor): Float32Array[] {
  const [rows, length, vocabulary] = logits.dims.length === 3 ? logits.dims : [1, 1, logits.dims[logits.dims.length - 1]];
  const starts = Array.from({ length: rows }, (_, row) => (row * length + length - 1) * vocabulary);
  if (logits.type === 'float32') return starts.map((start) => (logits.data as Float32Array).subarray(start, start + vocabulary));
  if (logits.type === 'float16') {
    return starts.map((start) => Float32Array.from((logits.data as Uint16Array).subarray(start, start + vocabulary), halfToNumber));
  }
  throw new TypeError(`expected float logits, got ${logits.type}`);
}

/** The next-token scores of a single-row `logits` output: its last position, as a view where it can be one. */
export function readLastScores(logits: Tensor): Float32Array {
  const vocabulary = logits.dims[logits.dims.length - 1];
  const start = logits.data.length - vocabulary;
  if (logits.type === 'float32') return (logits.data as Float32Array).subarray(start);
  if (logits.type === 'float16') {
    const halves = (logits.data as Uint16Array).subarray(start);
    return Float32Array.from(halves, halfToNumber);
  }
  throw new TypeError(`expected float logits, got ${logits.type}`);
}
