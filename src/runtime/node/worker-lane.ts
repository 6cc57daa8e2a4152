import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RunObserver } from '../../spec/run-observer.ts';
import { createEventChannel, type EventChannel } from '../../common/event-channel.ts';
import type { Lane, LaneBatchResult, LoadedLane } from '../../serving/lane.ts';
import { type TaskCall } from '../../spec/task-call.ts';
import { toError } from '../../serving/call-failure.ts';
import { functionShuttingDown } from '../../serving/serving-error.ts';
import type { FromWorker, ToWorker, WorkerSetup, WorkerStats } from './worker-protocol.ts';

const BOOTSTRAP = new URL('./worker-bootstrap.mjs', import.meta.url);
const SOURCE_ENTRY = new URL('./worker-entry.ts', import.meta.url);

/**
 * Whether this copy of honnx can start worker threads from its TypeScript sources (through tsx). A bundle, such
 * as a `honnx build --target node` artifact, cannot: it starts them from the worker bundle built beside it.
 */
export function canStartSourceWorkers(): boolean {
  return BOOTSTRAP.protocol === 'file:' && existsSync(fileURLToPath(BOOTSTRAP)) && existsSync(fileURLToPath(SOURCE_ENTRY));
}

export interface WorkerLaneOptions {
  setup: WorkerSetup;
  /**
   * The bundled module the thread starts from (a path), built with the function in it: no TypeScript loader in
   * the thread. Unset: the thread starts from honnx's sources through tsx and imports `setup.functionFile`.
   */
  bundle?: string;
  observer: RunObserver;
  /** Runs before the thread starts loading (Node checks the model against its lock file once, here). */
  beforeLoad?: () => Promise<void>;
}

/** How long a released thread has to finish the run it is in and exit, before it is terminated however it stands. */
const RELEASE_WAIT_MILLISECONDS = 30_000;

type Waiter =
  | { kind: 'batch'; resolve(result: LaneBatchResult): void; reject(error: unknown): void }
  | { kind: 'answer'; resolve(answer: unknown): void; reject(error: unknown): void; channel?: EventChannel<unknown> };

/**
 * A lane on a worker thread with sessions of its own. Requests cross as plain data (structured clone); stream
 * events come back one message each. If the thread dies, its requests fail and the next request starts a new one.
 */
export function createWorkerLane({ setup, bundle, observer, beforeLoad }: WorkerLaneOptions): Lane {
  let worker: Worker | undefined;
  let starting: Promise<LoadedLane> | undefined;
  let releasing = false;
  /** Set by `release`, for good: the lane answers nothing more and never starts another thread. */
  let released = false;
  let nextId = 1;
  const waiters = new Map<number, Waiter>();

  const reportStats = (stats: WorkerStats | undefined) => {
    if (!stats) return;
    for (const [requests, milliseconds] of stats.runs) observer.runCompleted(requests, milliseconds);
    if (stats.tokens > 0) observer.tokensGenerated(stats.tokens);
  };

  const failAll = (error: Error) => {
    for (const waiter of waiters.values()) {
      if (waiter.kind === 'answer' && waiter.channel) waiter.channel.fail(error);
      else waiter.reject(error);
    }
    waiters.clear();
  };

  const onMessage = (message: FromWorker) => {
    reportStats(message.stats);
    if (message.type === 'ready' || message.type === 'failed' || message.type === 'stats') return;
    const waiter = waiters.get(message.id);
    if (!waiter) return;
    if (message.type === 'batch' && waiter.kind === 'batch') {
      waiters.delete(message.id);
      waiter.resolve({
        milliseconds: message.milliseconds,
        answers: message.answers.map((answer) => (answer.ok ? answer : { ok: false, error: toError(answer.error) })),
      });
      return;
    }
    if (waiter.kind !== 'answer') return;
    switch (message.type) {
      case 'value':
        waiters.delete(message.id);
        waiter.resolve(message.value);
        break;
      case 'stream': {
        const channel = createEventChannel<unknown>();
        waiter.channel = channel;
        // A reader that stops early (client gone) stops the generation in the thread too.
        channel.onAbandon(() => post({ type: 'cancel', id: message.id }));
        waiter.resolve(channel.events());
        break;
      }
      case 'event':
        waiter.channel?.push(message.event);
        break;
      case 'end':
        waiters.delete(message.id);
        waiter.channel?.close();
        break;
      case 'error':
        waiters.delete(message.id);
        if (waiter.channel) waiter.channel.fail(toError(message.error));
        else waiter.reject(toError(message.error));
        break;
    }
  };

  const post = (message: ToWorker) => worker?.postMessage(message);

  /** Sends a request to the thread, failing it at once if the thread is gone (it died between two requests). */
  const sendRequest = (id: number, waiter: Waiter, message: ToWorker) => {
    if (!worker) {
      waiter.reject(released ? functionShuttingDown(setup.functionName) : new Error(`the worker thread of function ${setup.functionName} is not running`));
      return;
    }
    waiters.set(id, waiter);
    worker.postMessage(message);
  };

  const start = () =>
    new Promise<LoadedLane>((resolve, reject) => {
      const name = `honnx ${setup.functionName}`;
      const thread = bundle
        ? new Worker(bundle, { workerData: { setup }, name })
        : new Worker(BOOTSTRAP, { workerData: { entry: SOURCE_ENTRY.href, setup }, name });
      worker = thread;
      let loaded = false;
      thread.on('message', (message: FromWorker) => {
        if (!loaded && message.type === 'ready') {
          loaded = true;
          resolve(message.loaded);
        } else if (!loaded && message.type === 'failed') {
          releasing = true;
          void thread.terminate();
          reject(new Error(message.message));
        } else onMessage(message);
      });
      thread.on('error', (error) => {
        if (!loaded) reject(error);
        failAll(new Error(`the worker thread of function ${setup.functionName} failed: ${error.message}`));
      });
      thread.on('exit', (code) => {
        if (worker === thread) worker = undefined;
        starting = undefined;
        if (!loaded) reject(new Error(`the worker thread of function ${setup.functionName} exited with code ${code} while loading`));
        if (!releasing) failAll(new Error(`the worker thread of function ${setup.functionName} exited with code ${code}`));
      });
    });

  /**
   * Asks the thread to exit and waits until it has. Terminating a thread inside a native session run (onnxruntime-node
   * runs synchronously on the thread) makes the binding throw Napi::Error where nothing catches it, which aborts the
   * whole process (exit 134); so is a process.exit while a thread runs. The thread reads the message between two
   * runs, releases its sessions and exits there. Only one stuck past RELEASE_WAIT_MILLISECONDS is terminated.
   */
  const closeThread = async (thread: Worker) => {
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    thread.postMessage({ type: 'close' } satisfies ToWorker);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<'stuck'>((resolve) => (timer = setTimeout(() => resolve('stuck'), RELEASE_WAIT_MILLISECONDS)));
    const outcome = await Promise.race([exited, stuck]);
    clearTimeout(timer);
    if (outcome === 'stuck') await thread.terminate();
  };

  const ensureStarted = () => {
    if (released) return Promise.reject(functionShuttingDown(setup.functionName));
    if (!starting) {
      releasing = false;
      starting = (async () => {
        await beforeLoad?.();
        if (released) throw functionShuttingDown(setup.functionName);
        return start();
      })();
    }
    return starting;
  };

  return {
    load: ensureStarted,
    async answerBatch(calls) {
      await ensureStarted();
      const id = nextId++;
      return new Promise<LaneBatchResult>((resolve, reject) => sendRequest(id, { kind: 'batch', resolve, reject }, { type: 'batch', id, calls: [...calls] }));
    },
    async answer(call: TaskCall, signal) {
      await ensureStarted();
      signal.throwIfAborted();
      const id = nextId++;
      return new Promise<unknown>((resolve, reject) => {
        const waiter: Waiter = { kind: 'answer', resolve, reject };
        signal.addEventListener(
          'abort',
          () => {
            if (!waiters.has(id)) return;
            post({ type: 'cancel', id });
            if (waiter.channel) {
              waiters.delete(id);
              waiter.channel.fail(signal.reason);
              return;
            }
            // The thread goes on until its task notices the cancel (classify's never does). The request settles
            // when the thread is done with it, so the seat it holds in the scheduler stays taken until then, and no
            // more requests run in the thread than the scheduler allows.
            waiter.resolve = () => reject(signal.reason);
            waiter.reject = () => reject(signal.reason);
          },
          { once: true },
        );
        sendRequest(id, waiter, { type: 'answer', id, call });
      });
    },
    async release() {
      released = true;
      releasing = true;
      const thread = worker;
      worker = undefined;
      starting = undefined;
      failAll(functionShuttingDown(setup.functionName));
      if (thread) await closeThread(thread);
    },
  };
}
