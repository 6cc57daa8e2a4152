import { selectBatch } from './batch-selection.ts';
import type { RequestSize } from '../spec/request-size.ts';
import type { Lane } from './lane.ts';
import { clientClosed, ServingError } from './serving-error.ts';
import type { ServingEvents } from '../spec/serving-events.ts';
import type { ServingSettings } from '../spec/serving-options.ts';
import type { TaskCall } from '../spec/task-call.ts';
import { isAsyncIterable } from '../common/is-async-iterable.ts';

export interface FunctionSchedulerOptions {
  functionName: string;
  lanes: readonly Lane[];
  settings: ServingSettings;
  /**
   * Requests are merged into batches (tasks with a batched answer, batching on). Otherwise each request is sent
   * alone: up to `maxBatchSize` at a time per lane with batching on (generation joins the lane's step loop), up to
   * `UNBATCHED_REQUESTS_PER_LANE` with it off (each still gets runs of its own).
   */
  batches: boolean;
  /** Whether the task reports its own runs (generation's step loop); otherwise each answered request counts as one run. */
  reportsRuns: boolean;
  measure: (inputs: unknown) => RequestSize;
  events: ServingEvents;
}

/**
 * How to get the client's signal once it is needed. Hono's Node adapter makes an AbortController for a request the
 * first time its signal is read (about 14 µs); a request that runs at once in a batch never needs it.
 */
export type ClientSignal = () => AbortSignal;

/** Takes a function's requests, queues them (bounded), batches them and hands them to its lanes. */
export interface FunctionScheduler {
  /**
   * Resolves to the request's answer, or an AsyncIterable of stream events (the lane is held until it ends).
   * Rejects with a ServingError when the queue is full (`queue_full`), the request times out (`timeout`) or its client
   * leaves (`client_closed`), or with the task's own error.
   */
  submit(call: TaskCall, signal?: ClientSignal): Promise<unknown>;
  /** Requests waiting for a run, not counting those running. */
  queueDepth(): number;
  /** Requests handed to a lane and not yet answered (streams until they end). */
  runningCount(): number;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Entry {
  call: TaskCall;
  /** Its size for batching, measured only when a batch is chosen among several waiting requests. */
  size?: RequestSize;
  enqueuedAt: number;
  /**
   * Set by its wait timer. Timers count from the event loop's cached clock, so one can fire a fraction of a
   * millisecond before `performance.now()` says the wait is over; without the flag that pump would wait on, with no
   * timer left to end the wait.
   */
  waitOver?: boolean;
  state: 'queued' | 'running' | 'done';
  /** Aborts the work of a request that has started alone: the client left or its time ran out. Made on first use. */
  controller?: AbortController;
  settle(outcome: Outcome): void;
  /**
   * Runs `work` in the request's own continuation. Workers give every request a context of its own, whose I/O
   * objects (its signal, timers) no other request may touch and whose pending work ends with its answer; so a
   * request's run is started from its own context (a batch from its oldest request's), never from the context of
   * whichever request happened to finish last. On Node this costs a microtask.
   */
  start(work: () => void): void;
}

/**
 * Requests a lane holds at once when they are not batched. onnxruntime-node runs a session synchronously on its
 * thread, so the runs of the requests in hand go back to back in one turn of the event loop and their answers go
 * out together, as they did before there was a scheduler; the bound keeps the rest in the queue, where a time-out
 * can still drop them unrun.
 */
const UNBATCHED_REQUESTS_PER_LANE = 8;

/** Smoothing of the per-request service time that Retry-After is estimated from. */
const SERVICE_TIME_WEIGHT = 0.1;

export function createFunctionScheduler(options: FunctionSchedulerOptions): FunctionScheduler {
  const { functionName, lanes, settings, events } = options;
  const queue: Entry[] = [];
  // Batches or requests each lane has in hand.
  const inHand = lanes.map(() => 0);
  // Whether requests are merged into batches, or each is sent alone (see `batches`).
  const batchesRequests = options.batches && settings.batching !== undefined;
  const seatsPerLane = options.batches ? 1 : (settings.batching?.maxBatchSize ?? UNBATCHED_REQUESTS_PER_LANE);
  let running = 0;
  // Milliseconds of lane time per request, for Retry-After.
  let serviceMilliseconds = 10;

  const reportDepth = () => events.queueDepthChanged(functionName, queue.length);
  // Measuring tokenizes the request's texts; a request taken alone (the usual case at low load) skips it.
  const sizeOf = (entry: Entry): RequestSize => (entry.size ??= options.measure(entry.call.inputs));
  const signalOf = (entry: Entry): AbortSignal => (entry.controller ??= new AbortController()).signal;

  // One batch per lane at a time: the next batch gathers everything that arrived meanwhile. (Sending a worker its
  // next batch before the last one ends made batches smaller and cost more CPU per request on 2 shared cores.)
  const freeLane = (): number => inHand.indexOf(0);

  /**
   * Where the next lone request goes. Requests that share runs once there (generation's step loop) fill the
   * busiest lane that has room: one run of 8 sequences costs far less than two runs of 4 (measured on
   * tinystories-260k with 2 workers and 8 streams: 12.4 against 16.6 ms of CPU per 64-token request).
   * Requests that run alone go to the least busy lane, where they wait least.
   */
  const laneWithRoom = (): number => {
    const pack = settings.batching !== undefined;
    let best = -1;
    for (let lane = 0; lane < lanes.length; lane++) {
      if (inHand[lane] >= seatsPerLane) continue;
      if (best === -1 || (pack ? inHand[lane] > inHand[best] : inHand[lane] < inHand[best])) best = lane;
    }
    return best;
  };

  const takeFromQueue = (entries: Entry[]) => {
    const now = performance.now();
    for (const entry of entries) {
      entry.state = 'running';
      events.requestDequeued(functionName, now - entry.enqueuedAt);
    }
    reportDepth();
  };

  const noteServiceTime = (milliseconds: number, requests: number) => {
    serviceMilliseconds += SERVICE_TIME_WEIGHT * (milliseconds / Math.max(1, requests) - serviceMilliseconds);
  };

  const runBatch = async (lane: number, entries: Entry[]) => {
    try {
      const { answers, milliseconds } = await lanes[lane].answerBatch(entries.map((entry) => entry.call));
      events.batchCompleted(functionName, entries.length, milliseconds);
      noteServiceTime(milliseconds, entries.length);
      entries.forEach((entry, index) => entry.settle(answers[index] ?? { ok: false, error: new Error('the lane gave no answer') }));
    } catch (error) {
      // A failed run fails the requests of that batch only; the next batch runs as usual.
      entries.forEach((entry) => entry.settle({ ok: false, error }));
    } finally {
      inHand[lane]--;
      running -= entries.length;
      pump();
    }
  };

  const runAlone = async (lane: number, entry: Entry) => {
    let seatHeld = true;
    const freeSeat = () => {
      if (!seatHeld) return;
      seatHeld = false;
      inHand[lane]--;
      running--;
      pump();
    };
    const started = performance.now();
    try {
      const signal = signalOf(entry);
      const answer = await lanes[lane].answer(entry.call, signal);
      if (isAsyncIterable(answer)) {
        // A stream holds its seat until it ends, however it ends (read to the end, failed, abandoned, timed out).
        if (signal.aborted) {
          // Nobody will read it: the request ended while the stream was being opened.
          void answer[Symbol.asyncIterator]().return?.();
          freeSeat();
          return;
        }
        signal.addEventListener('abort', freeSeat, { once: true });
        entry.settle({ ok: true, value: holdUntilEnd(answer, freeSeat) });
        return;
      }
      const milliseconds = performance.now() - started;
      if (!options.reportsRuns) events.batchCompleted(functionName, 1, milliseconds);
      noteServiceTime(milliseconds, 1);
      entry.settle({ ok: true, value: answer });
    } catch (error) {
      entry.settle({ ok: false, error });
    }
    freeSeat();
  };

  function pump(): void {
    const batching = settings.batching;
    while (queue.length > 0) {
      if (batchesRequests && batching) {
        const lane = freeLane();
        if (lane === -1) return;
        const oldest = queue[0];
        const mayWait = batching.maxWaitMilliseconds > 0 && !oldest.waitOver && performance.now() - oldest.enqueuedAt < batching.maxWaitMilliseconds;
        const chosen = queue.length === 1 && !mayWait ? [0] : selectBatch(queue.map(sizeOf), batching);
        // Not full yet, and the oldest may still wait for company: each request pumps again at its own deadline.
        if (mayWait && chosen.reduce((sum, index) => sum + sizeOf(queue[index]).rows, 0) < batching.maxBatchSize) return;
        const entries = chosen.map((index) => queue[index]);
        for (let position = chosen.length - 1; position >= 0; position--) queue.splice(chosen[position], 1);
        takeFromQueue(entries);
        inHand[lane]++;
        running += entries.length;
        entries[0].start(() => void runBatch(lane, entries));
      } else {
        const lane = laneWithRoom();
        if (lane === -1) return;
        const entry = queue.shift()!;
        takeFromQueue([entry]);
        inHand[lane]++;
        running++;
        entry.start(() => void runAlone(lane, entry));
      }
    }
  }

  const retryAfterSeconds = () => Math.max(1, Math.ceil((queue.length * serviceMilliseconds) / Math.max(1, lanes.length) / 1000));

  return {
    queueDepth: () => queue.length,
    runningCount: () => running,
    submit(call, clientSignal) {
      const laneFree = options.batches ? freeLane() !== -1 : laneWithRoom() !== -1;
      if (queue.length >= settings.maxQueuedRequests && !(laneFree && queue.length === 0)) {
        events.requestRejected(functionName, 'queue_full');
        const seconds = retryAfterSeconds();
        return Promise.reject(
          new ServingError('queue_full', `function ${functionName} has ${queue.length} requests waiting, its limit; retry in ${seconds} s`, seconds),
        );
      }
      let settle!: (outcome: Outcome) => void;
      const settled = new Promise<Outcome>((resolve) => (settle = resolve));
      let startWork!: (work: () => void) => void;
      const turn = new Promise<() => void>((resolve) => (startWork = resolve));
      const entry: Entry = {
        call,
        enqueuedAt: performance.now(),
        state: 'queued',
        settle(outcome) {
          if (entry.state === 'done') return;
          entry.state = 'done';
          settle(outcome);
        },
        start: startWork,
      };
      // Registered here, so the work starts in this request's own continuation.
      void turn.then((work) => work());

      const stop = (error: unknown) => {
        if (entry.state === 'queued') {
          queue.splice(queue.indexOf(entry), 1);
          reportDepth();
        }
        entry.settle({ ok: false, error });
        // Work that started stops where it can: a generation leaves its batch, a stream ends with an error event.
        (entry.controller ??= new AbortController()).abort(error);
      };
      const onClientAbort = () => stop(clientClosed('the answer'));
      const timer = setTimeout(() => {
        events.requestRejected(functionName, 'timeout');
        stop(new ServingError('timeout', `function ${functionName} did not answer within ${settings.timeoutMilliseconds} ms`));
      }, settings.timeoutMilliseconds);
      const endWait = () => {
        entry.waitOver = true;
        pump();
      };
      const waitTimer = settings.batching && settings.batching.maxWaitMilliseconds > 0 ? setTimeout(endWait, settings.batching.maxWaitMilliseconds) : undefined;
      let signal: AbortSignal | undefined;
      // Timers and the listener are the request's own, so they are cleared from its own continuation.
      const release = () => {
        clearTimeout(timer);
        clearTimeout(waitTimer);
        signal?.removeEventListener('abort', onClientAbort);
      };

      queue.push(entry);
      reportDepth();
      pump();
      // The client leaving matters while the request waits, or while its work runs alone (a generation, a stream);
      // a batch that has started runs to its end, and an answer nobody reads is dropped by the server.
      if (clientSignal && (entry.state === 'queued' || !batchesRequests)) {
        signal = clientSignal();
        if (signal.aborted) onClientAbort();
        else signal.addEventListener('abort', onClientAbort, { once: true });
      }
      return settled.then((outcome) => {
        if (!outcome.ok) {
          release();
          throw outcome.error;
        }
        // A stream keeps its time-out and client-abort watch until it ends.
        if (isAsyncIterable(outcome.value)) return holdUntilEnd(outcome.value, release);
        release();
        return outcome.value;
      });
    },
  };
}

/** Passes a stream's events through and calls `onEnd` once it ends: read to the end, failed or abandoned. */
async function* holdUntilEnd(events: AsyncIterable<unknown>, onEnd: () => void): AsyncGenerator<unknown> {
  try {
    yield* events;
  } finally {
    onEnd();
  }
}
