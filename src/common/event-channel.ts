/**
 * A one-reader queue of events between a producer that runs on its own schedule (the shared step loop, a worker
 * thread) and the async iterator a request reads. The producer never waits for the reader.
 */
export interface EventChannel<Event> {
  push(event: Event): void;
  /** No more events; the reader ends after the queued ones. */
  close(): void;
  /** The reader throws this after the queued events. */
  fail(error: unknown): void;
  /** True once the reader stopped reading (it returned early or threw). */
  readonly abandoned: boolean;
  /** Called once, when the reader stops before the end. */
  onAbandon(listener: () => void): void;
  events(): AsyncGenerator<Event>;
}

export function createEventChannel<Event>(): EventChannel<Event> {
  const queued: Event[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  let abandoned = false;
  let abandonListener: (() => void) | undefined;
  const notify = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  return {
    push(event) {
      if (ended || abandoned) return;
      queued.push(event);
      notify();
    },
    close() {
      ended = true;
      notify();
    },
    fail(error) {
      if (ended) return;
      failure = { error };
      ended = true;
      notify();
    },
    get abandoned() {
      return abandoned;
    },
    onAbandon(listener) {
      abandonListener = listener;
    },
    async *events() {
      let finished = false;
      try {
        while (true) {
          while (queued.length > 0) yield queued.shift()!;
          if (ended) {
            finished = true;
            if (failure) throw failure.error;
            return;
          }
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        if (!finished) {
          abandoned = true;
          queued.length = 0;
          abandonListener?.();
        }
      }
    },
  };
}
