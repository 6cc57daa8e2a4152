/**
 * How a function's requests are scheduled: dynamic batching, the bounded queue and the request time-out.
 * A task endpoint gives defaults that suit its models; a function's definition overrides any of them.
 */
export interface BatchingOptions {
  /**
   * Most inputs one run takes. For generation: most sequences one model decodes together in its step loop.
   */
  maxBatchSize?: number;
  /**
   * While a model is free, how long the oldest waiting request may wait for others to fill its batch. 0 sends what
   * is waiting at once: requests still gather into batches while the model is busy, and a lone request pays nothing.
   */
  maxWaitMilliseconds?: number;
  /** Most tokens one run holds, padding included (rows × the longest row). */
  maxBatchTokens?: number;
  /**
   * Requests of different lengths share a run only while padding stays under this share of the run's tokens:
   * padding short rows to a long one costs more than the saved run overhead (measured: a batch of 32 SST-2
   * sentences in arrival order costs 1.6× per sentence what 32 runs of one cost, sorted by length 0.75×).
   */
  maxPaddingShare?: number;
}

/** How a function's requests are scheduled: batching, the queue bound and the time-out (a task's defaults, a function's overrides). */
export interface ServingOptions {
  /** Dynamic batching, or false to give every request a run of its own. */
  batching?: BatchingOptions | false;
  /** Requests that may wait for a run; one more is answered 429 with Retry-After at once. */
  maxQueuedRequests?: number;
  /** A request not answered in this time gets 504 and its work is dropped (not run if it has not started). */
  timeoutMilliseconds?: number;
}

/** Serving options resolved and checked: what the scheduler runs with. */
export interface ServingSettings {
  batching: Required<BatchingOptions> | undefined;
  maxQueuedRequests: number;
  timeoutMilliseconds: number;
}

export const DEFAULT_BATCHING: Required<BatchingOptions> = {
  maxBatchSize: 16,
  maxWaitMilliseconds: 0,
  maxBatchTokens: 4096,
  maxPaddingShare: 0.1,
};

export const DEFAULT_SERVING: ServingSettings = {
  batching: undefined,
  maxQueuedRequests: 256,
  timeoutMilliseconds: 30_000,
};

function checkPositive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`);
  }
  return value;
}

/** The longest delay `setTimeout` keeps: past it, Node fires after 1 ms, and every request would time out at once. */
const LONGEST_TIMER_MILLISECONDS = 2 ** 31 - 1;

function checkTimer(name: string, value: number, allowZero = false): number {
  checkPositive(name, value, allowZero);
  if (value > LONGEST_TIMER_MILLISECONDS) throw new RangeError(`${name} must be at most ${LONGEST_TIMER_MILLISECONDS} (about 24.8 days), got ${value}`);
  return value;
}

/** The function's options over its task's defaults over honnx's, checked. */
export function resolveServingSettings(taskDefaults: ServingOptions | undefined, functionOptions: ServingOptions | undefined): ServingSettings {
  const batchingOf = (options: ServingOptions | undefined) => options?.batching;
  const taskBatching = batchingOf(taskDefaults);
  const functionBatching = batchingOf(functionOptions);
  let batching: Required<BatchingOptions> | undefined;
  if (functionBatching !== false && (functionBatching !== undefined || (taskBatching !== undefined && taskBatching !== false))) {
    batching = { ...DEFAULT_BATCHING, ...(taskBatching || {}), ...(functionBatching || {}) };
    checkPositive('batching.maxBatchSize', batching.maxBatchSize);
    checkTimer('batching.maxWaitMilliseconds', batching.maxWaitMilliseconds, true);
    checkPositive('batching.maxBatchTokens', batching.maxBatchTokens);
    checkPositive('batching.maxPaddingShare', batching.maxPaddingShare, true);
  }
  const settings: ServingSettings = {
    batching,
    maxQueuedRequests: functionOptions?.maxQueuedRequests ?? taskDefaults?.maxQueuedRequests ?? DEFAULT_SERVING.maxQueuedRequests,
    timeoutMilliseconds: functionOptions?.timeoutMilliseconds ?? taskDefaults?.timeoutMilliseconds ?? DEFAULT_SERVING.timeoutMilliseconds,
  };
  checkPositive('maxQueuedRequests', settings.maxQueuedRequests, true);
  checkTimer('timeoutMilliseconds', settings.timeoutMilliseconds);
  return settings;
}
