import type { Tensor, TensorData } from '../../engine/engine.ts';

/**
 * The key/value cache of several sequences decoded together, one row each, left-padded: every row's entries end
 * at the last position of the sequence axis, and the `width - length` positions before a row's first entry are
 * padding that the attention mask hides. Entries are laid out [rows, heads, width, head size], as Hugging Face
 * exports lay out `past_key_values.*`.
 */
export interface DecodeBatch {
  /** Entries held per row (its prompt plus every token fed since). */
  readonly lengths: readonly number[];
  /** The sequence axis of every cache entry: the longest row's length, or more while rows have left. */
  readonly width: number;
  /** `past_key_values.*` name → entry. */
  readonly past: ReadonlyMap<string, Tensor>;
}

type TypedArrayConstructor = { new (length: number): TensorData };

/**
 * Copies rows of left-padded cache entries into a new batch, in the order given, narrowed or widened to `width`
 * (at least the longest row). Only the rows' own entries are copied; padding is left zero.
 */
export function gatherRows(sources: readonly { batch: DecodeBatch; row: number }[], width?: number): DecodeBatch {
  const lengths = sources.map(({ batch, row }) => batch.lengths[row]);
  const newWidth = Math.max(width ?? 0, ...lengths, 0);
  const past = new Map<string, Tensor>();
  const names = sources.length > 0 ? [...sources[0].batch.past.keys()] : [];
  for (const name of names) {
    const first = sources[0].batch.past.get(name)!;
    const [, heads, , size] = first.dims;
    const data = new (first.data.constructor as TypedArrayConstructor)(sources.length * heads * newWidth * size);
    sources.forEach(({ batch, row }, target) => {
      const entry = batch.past.get(name)!;
      const sourceData = entry.data as Float32Array;
      const length = batch.lengths[row];
      for (let head = 0; head < heads; head++) {
        const from = ((row * heads + head) * batch.width + (batch.width - length)) * size;
        const to = ((target * heads + head) * newWidth + (newWidth - length)) * size;
        (data as Float32Array).set(sourceData.subarray(from, from + length * size), to);
      }
    });
    past.set(name, { type: first.type, data, dims: [sources.length, heads, newWidth, size] });
  }
  return { lengths, width: newWidth, past };
}

/** The rows of `batch` at `rows`, in that order, with the padding no remaining row needs cut away. */
export function keepRows(batch: DecodeBatch, rows: readonly number[]): DecodeBatch {
  if (rows.length === batch.lengths.length && rows.every((row, index) => row === index)) return batch;
  return gatherRows(rows.map((row) => ({ batch, row })));
}

/** Every row of `first`, then every row of `second`, in one batch. */
export function joinBatches(first: DecodeBatch, second: DecodeBatch): DecodeBatch {
  if (first.lengths.length === 0) return second;
  if (second.lengths.length === 0) return first;
  return gatherRows([
    ...first.lengths.map((_, row) => ({ batch: first, row })),
    ...second.lengths.map((_, row) => ({ batch: second, row })),
  ]);
}

/** An attention mask over `width` positions hiding each row's left padding: 1 on the last `lengths[row]` positions. */
export function createLeftPaddedMask(lengths: readonly number[], width: number): Tensor {
  const data = new BigInt64Array(lengths.length * width);
  lengths.forEach((length, row) => data.fill(1n, row * width + width - length, (row + 1) * width));
  return { type: 'int64', data, dims: [lengths.length, width] };
}

/** Rows of token ids, right-aligned in a [rows, width] int64 tensor; padding positions hold `padId`. */
export function createLeftPaddedIds(rows: readonly (readonly number[])[], width: number, padId: number): Tensor {
  const data = new BigInt64Array(rows.length * width).fill(BigInt(padId));
  rows.forEach((ids, row) => ids.forEach((id, index) => (data[row * width + width - ids.length + index] = BigInt(id))));
  return { type: 'int64', data, dims: [rows.length, width] };
}

/**
 * Positions of right-aligned rows: each row counts from `starts[row]` over its own `counts[row]` new positions;
 * the padding before them gets position 0, which the mask hides anyway.
 */
export function createLeftPaddedPositions(starts: readonly number[], counts: readonly number[], width: number): Tensor {
  const data = new BigInt64Array(starts.length * width);
  starts.forEach((start, row) => {
    const count = counts[row];
    for (let index = 0; index < count; index++) data[row * width + width - count + index] = BigInt(start + index);
  });
  return { type: 'int64', data, dims: [starts.length, width] };
}
