/**
 * Counts the requests being answered, so that a shutdown can wait for them; after `begin(timeout)` a
 * deadline settles, at which the requests still running are answered 503 and streams are ended.
 */
export interface RequestDrain {
  /** True once a shutdown began. */
  readonly draining: boolean;
  /** True once the shutdown deadline passed. */
  readonly expired: boolean;
  /** Settles at the shutdown deadline; never before `begin`. */
  readonly deadline: Promise<void>;
  inFlight(): number;
  /** Milliseconds since a request last started or ended. */
  idleMilliseconds(): number;
  begin(timeoutMs: number): void;
  /** Resolves once no request is in flight. */
  settled(): Promise<void>;
  requestStarted(): void;
  requestEnded(): void;
}

export function createRequestDrain(): RequestDrain {
  let draining = false;
  let expired = false;
  let inFlight = 0;
  let lastActivity = performance.now();
  let passDeadline!: () => void;
  const deadline = new Promise<void>((resolve) => (passDeadline = resolve));
  let waiting: (() => void)[] = [];
  const touch = () => (lastActivity = performance.now());
  return {
    get draining() {
      return draining;
    },
    get expired() {
      return expired;
    },
    deadline,
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
