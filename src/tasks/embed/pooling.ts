/** How token vectors become one vector per text: their masked mean, the first ([CLS]) token's, or the last real token's. */
export type Pooling = 'mean' | 'cls' | 'last_token';

/**
 * Pools row `row` of a `[batch, sequence, hidden]` output over its `length` real tokens (the rest is padding on the
 * right), as sentence-transformers' Pooling module and transformers.js' feature-extraction pipeline do.
 */
export function poolRow(hidden: Float32Array, dims: readonly number[], row: number, length: number, pooling: Pooling): number[] {
  const [, sequence, size] = dims;
  const start = row * sequence * size;
  const vector = new Array<number>(size).fill(0);
  if (pooling === 'cls' || pooling === 'last_token') {
    const token = pooling === 'cls' ? 0 : Math.max(0, length - 1);
    for (let i = 0; i < size; i++) vector[i] = hidden[start + token * size + i];
    return vector;
  }
  for (let token = 0; token < length; token++) {
    const offset = start + token * size;
    for (let i = 0; i < size; i++) vector[i] += hidden[offset + i];
  }
  for (let i = 0; i < size; i++) vector[i] /= Math.max(1, length);
  return vector;
}

/** Scales a vector to unit length (L2), in place; a zero vector stays zero. */
export function normalizeVector(vector: number[]): number[] {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] /= norm;
  return vector;
}
