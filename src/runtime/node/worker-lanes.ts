import { availableParallelism } from 'node:os';
import type { CreateLanes } from '../../http/function-host.ts';
import type { ResolvedModel } from '../../models/resolve-model.ts';
import { builtInTaskName } from '../../serving/built-in-endpoints.ts';
import { canUseWorkerThreads, createWorkerLane } from '../../serving/worker-lane.ts';
import type { WorkerSetup } from '../../serving/worker-protocol.ts';
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

/** Drops what cannot cross to a thread (the task, which holds code); what is left of a definition is plain data. */
function cloneableDefinition(definition: NamedFunction['fn']['definition']): Record<string, unknown> {
  const { task: _task, ...rest } = definition;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

/**
 * The lanes of a function on worker threads, or undefined to keep its model on the main thread: no workers asked
 * for, honnx running from a bundle without a worker entry, or a task the threads cannot find (a custom task object
 * in a function that was not loaded from a file).
 */
export function createWorkerLanes(
  named: NamedFunction,
  model: ResolvedModel,
  options: WorkerThreadOptions | undefined,
  beforeLoad: () => Promise<void>,
): CreateLanes | undefined {
  if (!options || options.count <= 0 || !canUseWorkerThreads()) return undefined;
  const { definition } = named.fn;
  const task = builtInTaskName(definition.task);
  const source: WorkerSetup['source'] | undefined = named.file ? { kind: 'file', file: named.file } : task ? { kind: 'built-in', task } : undefined;
  if (!source) return undefined;
  return ({ limits, observer, batching }) =>
    Array.from({ length: options.count }, () =>
      createWorkerLane({
        setup: {
          functionName: named.name,
          source,
          definition: cloneableDefinition(definition),
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
