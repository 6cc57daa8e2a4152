import type { BatchedAnswers } from '../spec/task-endpoint.ts';
import type { TaskCall } from '../spec/task-call.ts';

/** What a lane reports once its model is loaded, prepared and warmed up. */
export interface LoadedLane {
  /** What the task reports of its prepared model (`TaskEndpoint.describe`): labels, kind, ... */
  description: Record<string, unknown>;
  model: { variant: string; location: string; engine: string };
  /** The most characters one token of the model's tokenizer stands for (`TextTokenizer.charactersPerToken`); none without one. */
  charactersPerToken?: number;
}

/** A lane's answers to one batch, and how long answering them took (tokenizing, runs and post-processing). */
export interface LaneBatchResult {
  answers: BatchedAnswers<unknown>;
  milliseconds: number;
}

/**
 * Somewhere a function's model runs: the calling thread (Workers, tests, `--workers 0`) or a worker thread with
 * sessions of its own. The scheduler sends each lane batches (tasks that batch) or single requests (the others).
 */
export interface Lane {
  load(): Promise<LoadedLane>;
  /** Answers several requests together; one request's failure fails that request only. */
  answerBatch(calls: readonly TaskCall[]): Promise<LaneBatchResult>;
  /**
   * Answers one request: its answer, or an AsyncIterable of stream events. Aborting `signal` stops the work
   * (a generation leaves its step loop at the next step).
   */
  answer(call: TaskCall, signal: AbortSignal): Promise<unknown>;
  release(): Promise<void>;
}
