/**
 * Why the serving machinery refused or stopped a request. Each kind is a condition of the server, not a fault of
 * the request's content: the queue is full, the request ran out of time, its client left, the server is shutting
 * down, or the function's model is loading or failed to load.
 */
export type ServingErrorKind = 'queue_full' | 'timeout' | 'client_closed' | 'shutting_down' | 'model_loading' | 'model_unavailable';

/**
 * The error the submit path rejects with for a serving condition. It names no transport: each API surface maps it
 * to its own answer (the HTTP layer's `toHttpError`: 429, 504, 499, 503).
 */
export class ServingError extends Error {
  constructor(
    readonly kind: ServingErrorKind,
    message: string,
    /** When a retry may succeed, in seconds (a full queue, a loading model). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ServingError';
  }
}

/** The client left before `before` (its request body arrived, the answer): nobody reads what comes next. */
export function clientClosed(before: string): ServingError {
  return new ServingError('client_closed', `the client closed the connection before ${before}`);
}

/** The function was released (the server is stopping): no request runs on it any more. */
export function functionShuttingDown(functionName: string): ServingError {
  return new ServingError('shutting_down', `function ${functionName} is shutting down; retry`);
}
