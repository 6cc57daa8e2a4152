import { parentPort, workerData } from 'node:worker_threads';
import { createNodeEngine } from '../../engine/onnxruntime-node.ts';
import type { Engine, InferenceSession } from '../../engine/engine.ts';
import type { HonnxFunction } from '../../spec/define-function.ts';
import { createFolderModelFiles } from '../../models/folder-model-files.ts';
import { loadModelBundle } from '../../models/model-bundle.ts';
import { readSessionOptions } from './session-options.ts';
import { describeFailure } from '../../serving/call-failure.ts';
import { answerCalls, describeLoaded, prepareTask } from '../../serving/in-thread-lane.ts';
import type { TaskCall } from '../../spec/task-call.ts';
import type { FromWorker, ToWorker, WorkerSetup, WorkerStats } from './worker-protocol.ts';
import { isAsyncIterable } from '../../common/is-async-iterable.ts';

/*
 * The body of a honnx worker thread: it loads its own sessions of one function's model and answers what the main
 * thread sends (batches, single requests, streams). The main thread keeps HTTP, validation, queueing and batching,
 * so inference never runs on the thread that accepts connections. A thread starts from a bundle that imports the
 * function and calls runWorkerThread (worker-bundle.ts writes one per function), or from worker-entry.ts.
 */

const port = parentPort!;
const setup = (workerData as { setup: WorkerSetup }).setup;

let pendingStats: WorkerStats | undefined;
const send = (message: FromWorker) => {
  // Metrics ride on the next message rather than one message per run.
  if (pendingStats) {
    message.stats = pendingStats;
    pendingStats = undefined;
  }
  port.postMessage(message);
};
let statsTimer: ReturnType<typeof setTimeout> | undefined;
const noteStats = (update: (stats: WorkerStats) => void) => {
  pendingStats ??= { runs: [], tokens: 0 };
  update(pendingStats);
  // A long stream sends messages all the time; a quiet thread still reports within 50 ms.
  statsTimer ??= setTimeout(() => {
    statsTimer = undefined;
    if (pendingStats) send({ type: 'stats' });
  }, 50);
};

/** Keeps the original error in the server log; the main thread only sees its kind and message. */
function reportFailure(error: unknown) {
  const failure = describeFailure(error);
  if (failure.kind === 'internal') console.error(`function ${setup.functionName} (worker thread):`, error);
  return failure;
}

async function start(loadFunction: () => Promise<HonnxFunction | undefined>) {
  const definition = (await loadFunction())?.definition;
  const endpoint = definition?.task;
  if (!endpoint) throw new Error(`function ${setup.functionName} must export default defineFunction({...})`);
  const engine = keepSessions(createNodeEngine({ threads: setup.threads }));
  const model = await loadModelBundle(createFolderModelFiles(setup.model.folder, setup.model.name), engine, {
    variant: setup.model.variant,
    session: readSessionOptions(definition),
  });
  const runner = await prepareTask(endpoint, model, setup.limits);
  endpoint.observe?.(runner, {
    runCompleted: (requests, milliseconds) => noteStats((stats) => stats.runs.push([requests, milliseconds])),
    tokensGenerated: (count) => noteStats((stats) => (stats.tokens += count)),
  });
  const { limits, batching } = setup;
  const cancels = new Map<number, AbortController>();

  const answerOne = async (id: number, call: TaskCall) => {
    const controller = new AbortController();
    cancels.set(id, controller);
    try {
      const answer = await endpoint.answer(runner, call.inputs, {
        parameters: call.parameters,
        limits,
        stream: call.stream,
        signal: controller.signal,
        batching,
        schema: definition.schema,
      });
      if (!isAsyncIterable(answer)) {
        send({ type: 'value', id, value: answer });
        return;
      }
      send({ type: 'stream', id });
      for await (const event of answer) send({ type: 'event', id, event });
      send({ type: 'end', id });
    } catch (error) {
      // A request the main thread cancelled (time-out, client gone) has nobody to tell; it is not a server fault.
      send({ type: 'error', id, error: controller.signal.aborted ? describeFailure(error) : reportFailure(error) });
    } finally {
      cancels.delete(id);
    }
  };

  port.on('message', (message: ToWorker) => {
    if (message.type === 'batch') {
      answerCalls(endpoint, runner, message.calls, limits, definition.schema).then(
        ({ answers, milliseconds }) =>
          send({
            type: 'batch',
            id: message.id,
            milliseconds,
            answers: answers.map((answer) => (answer.ok ? answer : { ok: false, error: reportFailure(answer.error) })),
          }),
        (error: unknown) => send({ type: 'batch', id: message.id, milliseconds: 0, answers: message.calls.map(() => ({ ok: false, error: reportFailure(error) })) }),
      );
    } else if (message.type === 'answer') {
      void answerOne(message.id, message.call);
    } else if (message.type === 'cancel') {
      cancels.get(message.id)?.abort(new Error('the request was cancelled'));
    }
  });
  send({ type: 'ready', loaded: describeLoaded(endpoint, { runner, model }) });
}

/** Every session this thread opened, released when it closes. */
const sessions: InferenceSession[] = [];

function keepSessions(engine: Engine): Engine {
  return {
    ...engine,
    async createSession(model, options) {
      const session = await engine.createSession(model, options);
      sessions.push(session);
      return session;
    },
  };
}

/**
 * Ends the thread at the main thread's request (a shutdown, a retired model version). A message is only handled
 * between two turns of this thread's event loop, and onnxruntime-node runs sessions synchronously, so no native run
 * or session load is in progress here: the thread releases its sessions and exits at this point, and whatever was
 * still to run (a step loop's next step, a load's next session) never starts. The main thread has already failed
 * the requests it had sent here.
 */
function closeThread(): void {
  for (const session of sessions.splice(0)) void session.release().catch(() => undefined);
  process.exit(0);
}

/** Serves the function `loadFunction` gives (its module's default export) on this worker thread. */
export function runWorkerThread(loadFunction: () => Promise<HonnxFunction | undefined>): void {
  // Heard while the model loads too.
  port.on('message', (message: ToWorker) => {
    if (message.type === 'close') closeThread();
  });
  start(loadFunction).catch((error: unknown) => send({ type: 'failed', message: error instanceof Error ? error.message : String(error) }));
}
