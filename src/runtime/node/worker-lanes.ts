import { availableParallelism } from 'node:os';
import type { CreateLanes } from '../../serving/function-host.ts';
import type { TaskEndpoint } from '../../spec/task-endpoint.ts';
import type { ResolvedModel } from '../../models/resolve-model.ts';
import { canStartSourceWorkers, createWorkerLane } from './worker-lane.ts';
import type { NamedFunction } from './discover-functions.ts';

/** How many worker threads each function's model runs on, their threads, and the bundles they start from. */
export interface WorkerThreadOptions {
  /** Worker threads per function; 0 runs models on the main thread. */
  count: number;
  /**
   * Intra-op threads of each worker's sessions; 1 by default (the workers are the parallelism), every core for a
   * task that keeps one session per process (generation).
   */
  threads?: number;
  /**
   * Each function's bundled worker entry, by function name (`honnx serve` bundles them into .cache at start; a
   * node artifact ships its worker.mjs). A function without one starts its threads from sources through tsx.
   */
  bundles?: ReadonlyMap<string, string>;
}

/** `honnx serve`'s default: one worker thread per core. */
export function defaultWorkerCount(): number {
  return availableParallelism();
}

/**
 * Reads a worker count from the environment (a node artifact's HONNX_WORKERS): a whole number, 0 or more; the
 * default (one per core) when unset or empty. Throws on anything else.
 */
export function readWorkerCount(value: string | undefined, name = 'HONNX_WORKERS'): number {
  if (value === undefined || value.trim() === '') return defaultWorkerCount();
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0) throw new Error(`${name} must be a whole number of threads, 0 or more (got ${value})`);
  return count;
}

/**
 * How many worker threads a function gets, and intra-op threads each: `count` threads of one intra-op thread, or, for
 * a task that keeps one session per process (a language model), a single thread with every core on its runs, its
 * weights in memory once and every stream batched in its one step loop. `--threads` overrides the intra-op count.
 */
export function planWorkerThreads(task: Pick<TaskEndpoint, 'oneSessionPerProcess'>, options: Pick<WorkerThreadOptions, 'count' | 'threads'>): { count: number; threads: number } {
  const oneSession = task.oneSessionPerProcess === true;
  return { count: oneSession ? 1 : options.count, threads: options.threads ?? (oneSession ? availableParallelism() : 1) };
}

/**
 * The lanes of a function on worker threads, or undefined to keep its model on the main thread: no workers asked
 * for, or no way to start a thread for it (no bundle, and either honnx runs from a bundle itself or the function
 * was not loaded from a file, which a thread started from sources imports to find the function's task).
 */
export function createWorkerLanes(
  named: NamedFunction,
  model: ResolvedModel,
  options: WorkerThreadOptions | undefined,
  beforeLoad: () => Promise<void>,
): CreateLanes | undefined {
  if (!options || options.count <= 0) return undefined;
  const bundle = options.bundles?.get(named.name);
  if (!bundle && (!named.file || !canStartSourceWorkers())) return undefined;
  const { definition } = named.fn;
  const { count, threads } = planWorkerThreads(definition.task, options);
  return ({ limits, observer, batching }) =>
    Array.from({ length: count }, () =>
      createWorkerLane({
        setup: {
          functionName: named.name,
          functionFile: named.file,
          limits,
          batching,
          model: { folder: model.folder, name: model.name, variant: definition.variant },
          threads,
        },
        bundle,
        observer,
        beforeLoad,
      }),
    );
}
