import type { TensorData } from '../../engine/engine.ts';

type TypedArrayConstructor = { new (length: number): TensorData };

/**
 * Blocks of memory for key/value caches and logits, handed out and taken back so that decoding reuses the same few
 * buffers step after step instead of making the engine allocate (and the GC reclaim) 30-150 MB per step. A step
 * writes its cache into one block while it reads the previous step's from another, so two blocks per batch
 * alternate. Blocks are sized with headroom so that a growing cache takes a new one only every few dozen steps.
 */
export interface BufferPool {
  /** A block of at least `length` elements; its contents are whatever its last user left. */
  acquire(length: number): TensorData;
  /** Gives a block back once nothing reads it any more. Blocks from elsewhere are ignored. */
  release(block: TensorData): void;
  /** Elements held in free blocks, for tests and memory accounting. */
  readonly freeLength: number;
}

export interface BufferPoolOptions {
  /** Free blocks kept for reuse; smaller ones are dropped first. */
  maxFree?: number;
  /** Extra room given to a new block, as a fraction of the length asked for. */
  headroom?: number;
  /** Extra room given to a new block, in elements (one cache position of every layer, times a few dozen). */
  minimumHeadroom?: number;
}

export function createBufferPool(ArrayType: TypedArrayConstructor, { maxFree = 2, headroom = 0.25, minimumHeadroom = 0 }: BufferPoolOptions = {}): BufferPool {
  const free: TensorData[] = [];
  const owned = new WeakSet<ArrayBufferLike>();
  return {
    acquire(length) {
      // The smallest free block that is large enough.
      let best = -1;
      for (let index = 0; index < free.length; index++) {
        if (free[index].length >= length && (best < 0 || free[index].length < free[best].length)) best = index;
      }
      if (best >= 0) return free.splice(best, 1)[0];
      const block = new ArrayType(Math.ceil(length + Math.max(length * headroom, minimumHeadroom)));
      owned.add(block.buffer);
      return block;
    },
    release(block) {
      if (!owned.has(block.buffer) || free.some((entry) => entry.buffer === block.buffer)) return;
      free.push(block);
      if (free.length > maxFree) {
        free.sort((a, b) => b.length - a.length);
        free.length = maxFree;
      }
    },
    get freeLength() {
      return free.reduce((sum, block) => sum + block.length, 0);
    },
  };
}
