import type { FunctionLimits } from '../../spec/function-limits.ts';
import type { ModelVariant } from '../../models/model-bundle.ts';
import type { LoadedLane } from '../../serving/lane.ts';
import type { TaskCall } from '../../spec/task-call.ts';
import type { CallFailure, CallOutcome } from '../../serving/call-failure.ts';

/** Everything a worker thread needs to load a function's model on its own: plain data, cloned into the thread. */
export interface WorkerSetup {
  functionName: string;
  /**
   * The function's file, imported in a thread started from sources (worker-entry.ts) for its task: code, which
   * cannot be cloned across. A thread started from a bundle has the function built in.
   */
  functionFile?: string;
  limits: Required<FunctionLimits>;
  /** The function batches (`EndpointContext.batching`). */
  batching: boolean;
  model: { folder: string; name: string; variant?: ModelVariant };
  /** Intra-op threads of the thread's sessions. */
  threads: number;
}

/** Runs a lane's worker has reported since its last message, for metrics: [requests served, milliseconds] each. */
export interface WorkerStats {
  runs: [number, number][];
  tokens: number;
}

export type ToWorker =
  | { type: 'batch'; id: number; calls: TaskCall[] }
  | { type: 'answer'; id: number; call: TaskCall }
  | { type: 'cancel'; id: number }
  /** Stop: the thread releases its sessions and exits between two runs, never inside one. */
  | { type: 'close' };

export type FromWorker = (
  | { type: 'ready'; loaded: LoadedLane }
  | { type: 'failed'; message: string }
  | { type: 'batch'; id: number; answers: CallOutcome[]; milliseconds: number }
  | { type: 'value'; id: number; value: unknown }
  | { type: 'stream'; id: number }
  | { type: 'event'; id: number; event: unknown }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; error: CallFailure }
  | { type: 'stats' }
) & { stats?: WorkerStats };
