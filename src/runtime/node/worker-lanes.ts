import { availableParallelism } from 'node:os';
import type { CreateLanes } from '../../http/function-host.ts';
import type { ResolvedModel } from '../../models/resolve-model.ts';
import { canUseWorkerThreads, createWorkerLane } from '../../serving/worker-lane.ts';
import type { NamedFunction } from './discover-functions.ts';

export interface WorkerThreadOptions {
  /** Worker threads per function; 0 runs models on the main thread. */
  count: number;
  /** Intra-op threads of each worker's sessions; 1 by default (the workers are the parallelism). */
  threads?: number;
}

/** `honnx serve`'s default: one worker thread per core. */
export function defaultWorkerCount(): number {
  return availableParallelism();
}

/**
 * The lanes of a function on worker threads, or undefined to keep its model on the main thread: no workers asked
 * for, honnx running from a bundle without a worker entry, or a function not loaded from a file (a thread imports
 * the file to find the function's task, which is code and cannot be sent to it).
 */
export function createWorkerLanes(
  named: NamedFunction,
  model: ResolvedModel,
  options: WorkerThreadOptions | undefined,
  beforeLoad: () => Promise<void>,
): CreateLanes | undefined {
  const functionFile = named.file;
  if (!options || options.count <= 0 || !functionFile || !canUseWorkerThreads()) return undefined;
  const { definition } = named.fn;
  return ({ limits, observer, batching }) =>
    Array.from({ length: options.count }, () =>
      createWorkerLane({
        setup: {
          functionName: named.name,
          functionFile,
          limits,
          batching,
          model: { folder: model.folder, name: model.name, variant: definition.variant },
          threads: options.threads ?? 1,
        },
        observer,
        beforeLoad,
      }),
    );
}
