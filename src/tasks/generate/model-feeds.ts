import type { Tensor } from '../../engine/engine.ts';

export function createIdsTensor(ids: readonly number[]): Tensor {
  return { type: 'int64', data: BigInt64Array.from(ids, (id) => BigInt(id)), dims: [1, ids.length] };
}

export function createOnesMask(length: number): Tensor {
  return { type: 'int64', data: new BigInt64Array(length).fill(1n), dims: [1, length] };
}

/** The flag of merged decoders (`decoder_model_merged.onnx`) that picks the branch fed from the cache. */
export function createBranchFlag(useCache: boolean): Tensor {
  return { type: 'bool', data: Uint8Array.of(useCache ? 1 : 0), dims: [1] };
}
