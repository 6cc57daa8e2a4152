/**
 * Counts the requests being answered, so that a shutdown can wait for them; after `begin(timeout)` a
 * deadline settles, at which the requests still running are answered 503 and streams are ended.
 */
export interface RequestDrain {
  /** True once a shutdown began. */
  readonly draining: boolean;
  /** True once the shutdown deadline passed. */
  readonly expired: boolean;
  /**
   * For one request: `reached` settles at the shutdown deadline (never before `begin`); `release` once the request
   * has ended. Each request gets a promise of its own: reactions on one promise shared by every request would
   * pile up for the life of the server (one per request ever answered, since the deadline never comes).
   */
  watchDeadline(): DeadlineWatch;
  inFlight(): number;
  /** Milliseconds since a request last started or ended. */
  idleMilliseconds(): number;
  begin(timeoutMs: number): void;
  /** Resolves once no request is in flight. */
  settled(): Promise<void>;
  requestStarted(): void;
  requestEnded(): void;
}

/** A request's watch on the drain deadline: `reached` settles at it; `release` when the request is done. */
export interface DeadlineWatch {
  reached: Promise<void>;
  release(): void;
}

/** Tracks in-flight requests for a graceful shutdown: once draining, new requests get 503 and the rest are answered by the deadline. */
export function createRequestDrain(): RequestDrain {
  let draining = false;
  let expired = false;
  let inFlight = 0;
  let lastActivity = performance.now();
  const watchers = new Set<() => void>();
  const passDeadline = () => {
    for (const reach of watchers) reach();
    watchers.clear();
  };
  let waiting: (() => void)[] = [];
  const touch = () => (lastActivity = performance.now());
  return {
    get draining() {
      return draining;
    },
    get expired() {
      return expired;
    },
    watchDeadline() {
      if (expired) return { reached: Promise.resolve(), release: () => undefined };
      let reach!: () => void;
      const reached = new Promise<void>((resolve) => (reach = resolve));
      watchers.add(reach);
      return { reached, release: () => void watchers.delete(reach) };
    },
    inFlight: () => inFlight,
    idleMilliseconds: () => performance.now() - lastActivity,
    begin(timeoutMs) {
      if (draining) return;
      draining = true;
      touch();
      const timer = setTimeout(() => {
        expired = true;
        passDeadline();
      }, timeoutMs);
      // The deadline must not keep a process alive that has nothing else to do.
      (timer as { unref?: () => void }).unref?.();
    },
    settled() {
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => waiting.push(resolve));
    },
    requestStarted() {
      inFlight += 1;
      touch();
    },
    requestEnded() {
      inFlight -= 1;
      touch();
      if (inFlight === 0) {
        const resolved = waiting;
        waiting = [];
        resolved.forEach((resolve) => resolve());
      }
    },
  };
}
