import type { Tensor, TensorData, TensorType } from '../../engine/engine.ts';

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
  /** The pooled block every entry is a view into, given back to its pool once the batch is used up. */
  readonly block?: TensorData;
}

/** Where gathered rows are written: a block of at least `length` elements of the entries' type. */
export type AllocateCache = (type: TensorType, length: number) => TensorData;

type TypedArrayConstructor = { new (length: number): TensorData };

/** A fresh array of the entry's own element type (Uint16Array for float16 caches: no cast to Float32Array). */
const allocateFresh = (like: TensorData) => (length: number) => new (like.constructor as TypedArrayConstructor)(length);

/**
 * Copies rows of left-padded cache entries into a new batch, in the order given, narrowed or widened to `width`
 * (at least the longest row). Only the rows' own entries are copied; padding is zeroed. Every entry of the new
 * batch is a view into one block, from `allocate` when given.
 */
export function gatherRows(sources: readonly { batch: DecodeBatch; row: number }[], width?: number, allocate?: AllocateCache): DecodeBatch {
  const lengths = sources.map(({ batch, row }) => batch.lengths[row]);
  const newWidth = Math.max(width ?? 0, ...lengths, 0);
  const past = new Map<string, Tensor>();
  const names = sources.length > 0 ? [...sources[0].batch.past.keys()] : [];
  if (names.length === 0) return { lengths, width: newWidth, past };
  const first = sources[0].batch.past.get(names[0])!;
  const [, heads, , size] = first.dims;
  const entryLength = sources.length * heads * newWidth * size;
  const block = allocate ? allocate(first.type, names.length * entryLength) : allocateFresh(first.data)(names.length * entryLength);
  names.forEach((name, index) => {
    const data = block.subarray(index * entryLength, (index + 1) * entryLength) as TensorData;
    // A pooled block holds what its last batch left; rows that are shorter than the width must read zeros.
    if (allocate) data.fill(0 as never);
    sources.forEach(({ batch, row }, target) => {
      const source = batch.past.get(name)!.data;
      const length = batch.lengths[row];
      for (let head = 0; head < heads; head++) {
        const from = ((row * heads + head) * batch.width + (batch.width - length)) * size;
        const to = ((target * heads + head) * newWidth + (newWidth - length)) * size;
        (data as Uint8Array).set((source as Uint8Array).subarray(from, from + length * size), to);
      }
    });
    past.set(name, { type: first.type, data, dims: [sources.length, heads, newWidth, size] });
  });
  return { lengths, width: newWidth, past, block: allocate ? block : undefined };
}

/** The rows of `batch` at `rows`, in that order, with the padding no remaining row needs cut away. */
export function keepRows(batch: DecodeBatch, rows: readonly number[], allocate?: AllocateCache): DecodeBatch {
  if (rows.length === batch.lengths.length && rows.every((row, index) => row === index)) return batch;
  return gatherRows(rows.map((row) => ({ batch, row })), undefined, allocate);
}

/** Every row of `first`, then every row of `second`, in one batch. */
export function joinBatches(first: DecodeBatch, second: DecodeBatch, allocate?: AllocateCache): DecodeBatch {
  if (first.lengths.length === 0) return second;
  if (second.lengths.length === 0) return first;
  return gatherRows(
    [...first.lengths.map((_, row) => ({ batch: first, row })), ...second.lengths.map((_, row) => ({ batch: second, row }))],
    undefined,
    allocate,
  );
}
