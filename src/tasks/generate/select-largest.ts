/**
 * Partial selection for sampling: top-k and top-p need the few largest scores of a row of 32,000-152,000, and a
 * full sort of the row cost more than the rest of a sampling step together (bench/sampling-bench.ts).
 */

/**
 * The `count`-th largest of `values` at `ids` (or of every value when `ids` is undefined), duplicates counted
 * (`[5, 3, 3]` has 3 as its 2nd and 3rd largest): a min-heap of `count` entries, one pass over the row.
 */
export function findKthLargest(values: Float32Array, count: number, ids?: Int32Array): number {
  const length = ids ? ids.length : values.length;
  const heap = new Float64Array(count);
  let size = 0;
  for (let position = 0; position < length; position++) {
    const value = values[ids ? ids[position] : position];
    if (size < count) {
      // Sift up.
      let child = size++;
      while (child > 0) {
        const parent = (child - 1) >> 1;
        if (heap[parent] <= value) break;
        heap[child] = heap[parent];
        child = parent;
      }
      heap[child] = value;
    } else if (value > heap[0]) {
      replaceSmallest(heap, size, value);
    }
  }
  return heap[0];
}

function replaceSmallest(heap: Float64Array, size: number, value: number): void {
  let parent = 0;
  for (;;) {
    let child = 2 * parent + 1;
    if (child >= size) break;
    if (child + 1 < size && heap[child + 1] < heap[child]) child++;
    if (heap[child] >= value) break;
    heap[parent] = heap[child];
    parent = child;
  }
  heap[parent] = value;
}

/** Positions whose weight is larger come first; among equal weights, the higher position first (see `selectHeaviest`). */
function comesBefore(weights: Float64Array, a: number, b: number): boolean {
  return weights[a] > weights[b] || (weights[a] === weights[b] && a > b);
}

/**
 * The positions of the `count` heaviest `weights`, heaviest first; equal weights put the higher position first,
 * the order in which Hugging Face's top-p (an ascending stable sort, dropped from the light end) keeps them.
 */
export function selectHeaviest(weights: Float64Array, count: number): Int32Array {
  const length = weights.length;
  if (count >= length) {
    return Int32Array.from({ length }, (_, position) => position).sort((a, b) => (comesBefore(weights, a, b) ? -1 : 1));
  }
  // A min-heap (by `comesBefore`) of the heaviest seen so far: its root is the one to drop next.
  const heap = new Int32Array(count);
  let size = 0;
  for (let position = 0; position < length; position++) {
    if (size < count) {
      let child = size++;
      while (child > 0) {
        const parent = (child - 1) >> 1;
        if (!comesBefore(weights, heap[parent], position)) break;
        heap[child] = heap[parent];
        child = parent;
      }
      heap[child] = position;
    } else if (comesBefore(weights, position, heap[0])) {
      let parent = 0;
      for (;;) {
        let child = 2 * parent + 1;
        if (child >= size) break;
        if (child + 1 < size && comesBefore(weights, heap[child], heap[child + 1])) child++;
        if (!comesBefore(weights, position, heap[child])) break;
        heap[parent] = heap[child];
        parent = child;
      }
      heap[parent] = position;
    }
  }
  return heap.sort((a, b) => (comesBefore(weights, a, b) ? -1 : 1));
}
