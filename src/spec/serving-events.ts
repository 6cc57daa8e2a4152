/**
 * What the serving machinery reports as it works. The scheduler (queues, batching, worker threads) emits
 * these; metrics and logs listen. Neither side imports the other: both depend on this interface only.
 */
export interface ServingEvents {
  /** A function's queue grew or shrank; `depth` counts requests waiting, not those running. */
  queueDepthChanged(functionName: string, depth: number): void;
  /** A request left the queue for a run, after waiting this long. */
  requestDequeued(functionName: string, queueWaitMilliseconds: number): void;
  /** One batched run finished: how many requests it served, and how long the run took. */
  batchCompleted(functionName: string, batchSize: number, inferenceMilliseconds: number): void;
  /** Generation produced tokens (summed per function). */
  tokensGenerated(functionName: string, count: number): void;
  /** A function's model finished loading and warming up. */
  modelLoaded(functionName: string, loadMilliseconds: number): void;
  /** A request was refused because the function's queue was full. */
  requestRejected(functionName: string, reason: 'queue_full' | 'timeout'): void;
}

/** Listens to nothing: the default when no metrics are configured. */
export const ignoreServingEvents: ServingEvents = {
  queueDepthChanged() {},
  requestDequeued() {},
  batchCompleted() {},
  tokensGenerated() {},
  modelLoaded() {},
  requestRejected() {},
};
