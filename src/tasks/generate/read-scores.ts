import type { Tensor } from '../../engine/engine.ts';
import { widenFloat16 } from '../../engine/float16.ts';

/**
 * The next-token scores of each row from a `logits` output [batch, sequence, vocabulary]: the last position of
 * every row. Float32 rows are views into the output, not copies (the caller owns the output and may change them);
 * float16 models (the `_fp16` and `q4f16` exports) have their scores widened to float32, into `widened` when given
 * (rows × vocabulary long, reused across steps).
 */
export function readLastScoreRows(logits: Tensor, widened?: Float32Array): Float32Array[] {
  const [rows, length, vocabulary] = logits.dims.length === 3 ? logits.dims : [1, 1, logits.dims[logits.dims.length - 1]];
  const starts = Array.from({ length: rows }, (_, row) => (row * length + length - 1) * vocabulary);
  if (logits.type === 'float32') return starts.map((start) => (logits.data as Float32Array).subarray(start, start + vocabulary));
  if (logits.type === 'float16') {
    const target = widened && widened.length >= rows * vocabulary ? widened : new Float32Array(rows * vocabulary);
    return starts.map((start, row) =>
      widenFloat16((logits.data as Uint16Array).subarray(start, start + vocabulary), target.subarray(row * vocabulary, (row + 1) * vocabulary)),
    );
  }
  throw new TypeError(`expected float logits, got ${logits.type}`);
}

/** The next-token scores of a single-row `logits` output: its last position, as a view where it can be one. */
export function readLastScores(logits: Tensor): Float32Array {
  const vocabulary = logits.dims[logits.dims.length - 1];
  const start = logits.data.length - vocabulary;
  if (logits.type === 'float32') return (logits.data as Float32Array).subarray(start);
  if (logits.type === 'float16') return widenFloat16((logits.data as Uint16Array).subarray(start));
  throw new TypeError(`expected float logits, got ${logits.type}`);
}

/** The scores at one position of one row of a `logits` output [batch, sequence, vocabulary], as float32. */
export function readScoreRow(logits: Tensor, row: number, position: number): Float32Array {
  const [, length, vocabulary] = logits.dims;
  const start = (row * length + position) * vocabulary;
  if (logits.type === 'float32') return (logits.data as Float32Array).subarray(start, start + vocabulary);
  if (logits.type === 'float16') return widenFloat16((logits.data as Uint16Array).subarray(start, start + vocabulary));
  throw new TypeError(`expected float logits, got ${logits.type}`);
}
