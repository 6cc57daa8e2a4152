import type { ModelBundle } from '../models/model-bundle.ts';
import { isAsyncIterable } from '../common/is-async-iterable.ts';
import { measureTextInputs } from './batch-selection.ts';
import type { RequestSize } from '../spec/request-size.ts';
import { createFunctionScheduler, type ClientSignal, type FunctionScheduler } from './function-scheduler.ts';
import { ServingError } from './serving-error.ts';
import { refuseInputsOverCharacters } from './input-characters.ts';
import { createInThreadLane, type InThreadLane } from './in-thread-lane.ts';
import type { Lane, LoadedLane } from './lane.ts';
import { ignoreServingEvents, type ServingEvents } from '../spec/serving-events.ts';
import { resolveServingSettings, type ServingSettings } from '../spec/serving-options.ts';
import type { FunctionDefinition } from '../spec/function-definition.ts';
import type { AnswerConfidence, TaskEndpoint } from '../spec/task-endpoint.ts';
import type { FunctionLimits } from '../spec/function-limits.ts';
import type { RunObserver } from '../spec/run-observer.ts';

/** Where a function's model is: not asked for yet, loading, ready to answer, or failed to load. */
export type FunctionState = 'idle' | 'loading' | 'ready' | 'failed';

/** Loads a function's model in whatever way the runtime delivers models (folder, bundle, R2, ...). */
export type LoadFunctionModel = (definition: FunctionDefinition) => Promise<ModelBundle>;

/** Where a function's model was loaded from and what runs it, for `GET /<function>`. */
export interface LoadedModelInfo {
  variant: string;
  location: string;
  engine: string;
}

/**
 * One function's serving state: its model, prepared once (per lane) and shared by all requests, and the scheduler
 * that queues, batches and times out its requests. Concurrent first requests wait on the same load rather than
 * each starting one.
 */
export interface FunctionHost {
  readonly name: string;
  readonly route: string;
  readonly definition: FunctionDefinition;
  readonly endpoint: TaskEndpoint;
  readonly limits: Required<FunctionLimits>;
  /** Batching, queue bound and time-out, resolved from the function's definition over its task's defaults. */
  readonly serving: ServingSettings;
  /** Lanes the model runs on: 1 on this thread, or one per worker thread. */
  readonly laneCount: number;
  readonly waitWhileLoading: boolean;
  state(): FunctionState;
  /** Why loading failed, when it did. */
  failure(): string | undefined;
  /** Milliseconds the model took to load and warm up (on every lane). */
  loadMilliseconds(): number | undefined;
  /** Starts loading if nothing has yet; resolves once the model is ready to answer (to the runner, when it runs on this thread). */
  load(): Promise<unknown>;
  /** The prepared runner when the model runs on this thread; undefined while not ready or when it runs in worker threads. */
  runner(): unknown;
  /** The model bundle when the model runs on this thread. */
  model(): ModelBundle | undefined;
  /** What the task reports of the prepared model (labels, kind, ...), once loaded. */
  description(): ReturnType<TaskEndpoint['describe']> | undefined;
  modelInfo(): LoadedModelInfo | undefined;
  /**
   * The one way into a function, whatever the transport: waits for the model (or refuses while it loads), merges the
   * function's default parameters under the request's own, and queues the request for the scheduler. Resolves to
   * the task's answer, or an AsyncIterable of its stream events; rejects with a ServingError (queue full, time-out,
   * client gone, model loading or unavailable) or the task's own error (an InputError for bad input).
   */
  submit(request: FunctionRequest): Promise<unknown>;
  /** Requests waiting for a run. */
  queueDepth(): number;
  /** The model versions serving, where the host can change them (the Node server's swappable hosts): for `GET /<function>` and `/v1/models`. */
  modelVersions?(): ServedVersions;
  /** Stops the lanes (worker threads); the host answers nothing afterwards. */
  release(): Promise<void>;
}

/** Which versions of a function's model serve: the active one, the one a rollback returns to, and a canary with its share of requests. */
export interface ServedVersions {
  active: string;
  previous?: string;
  canary?: { version: string; percent: number };
}

/** A request to a function as every API surface hands it over, once it has read and validated its own envelope. */
export interface FunctionRequest {
  /** The request's id (`X-Request-Id`): a canary splits traffic on its hash, so that one id always meets one version. */
  requestId?: string;
  /** Told which model version takes the request (the active one or a canary's), for the metrics and the log. */
  onVersion?: (version: string) => void;
  /** The task's inputs, valid for its `inputsSchema` and within the function's limits (`maxInputs`). */
  inputs: unknown;
  /** The request's own parameters, valid for the task's `parametersSchema`; the function's defaults fill the rest. */
  parameters?: Record<string, unknown>;
  /** Ask for a stream: the answer is then an AsyncIterable of the task's events. */
  stream?: boolean;
  /**
   * Aborted when the client leaves: the request is dropped, or its work stopped. A function that gives the signal
   * is called only if the request waits or runs alone (Hono's Node adapter makes a request's signal on first read).
   */
  signal?: AbortSignal | ClientSignal;
  /** Told each answered input's confidence, for tasks that give one (the generative ones), before the answer resolves. */
  onConfidence?: (confidence: AnswerConfidence) => void;
}

/** A stream's events as the request asked to see them; the confidence an event carries goes to `onConfidence` first. */
async function* separateStreamConfidence(
  events: AsyncIterable<unknown>,
  separate: (event: unknown) => { event: unknown; confidence?: AnswerConfidence },
  onConfidence: ((confidence: AnswerConfidence) => void) | undefined,
): AsyncGenerator<unknown> {
  for await (const event of events) {
    const separated = separate(event);
    if (separated.confidence) onConfidence?.(separated.confidence);
    yield separated.event;
  }
}

/** Seconds a client should wait before retrying while a model loads. */
const LOADING_RETRY_AFTER_SECONDS = 2;

/** Makes the lanes a function's model runs on; `observer` hears about runs that serve several requests at once. */
export type CreateLanes = (context: { definition: FunctionDefinition; limits: Required<FunctionLimits>; observer: RunObserver; batching: boolean }) => Lane[];

/** How a runtime hosts a function: waiting or refusing while it loads, where serving events go, where its model runs. */
export interface FunctionHostOptions {
  /**
   * While the model loads, requests wait for it (Workers, which load on the first request) instead of
   * being answered 503 with Retry-After (Node, which loads every model at start-up).
   */
  waitWhileLoading?: boolean;
  /** Where queue depth, waits, batches, tokens, load time and refusals are reported (metrics). */
  events?: ServingEvents;
  /** Run the model somewhere other than this thread (Node's worker threads); one in-thread lane when unset. */
  createLanes?: CreateLanes;
}

/** Makes a function's host: its lanes (one on this thread unless `createLanes` says otherwise) and its scheduler; nothing loads until `load` or the first `submit`. */
export function createFunctionHost(
  name: string,
  definition: FunctionDefinition,
  loadModel: LoadFunctionModel,
  options: FunctionHostOptions = {},
): FunctionHost {
  const endpoint = definition.task;
  const events = options.events ?? ignoreServingEvents;
  const limits: Required<FunctionLimits> = { ...endpoint.defaultLimits, ...definition.limits };
  const serving = resolveServingSettings(endpoint.defaultServing, definition);
  const observer: RunObserver = {
    runCompleted: (requests, milliseconds) => events.batchCompleted(name, requests, milliseconds),
    tokensGenerated: (count) => events.tokensGenerated(name, count),
  };
  const batching = serving.batching !== undefined;
  // Sizes from text length until the model (and its tokenizer) is loaded.
  let measure: (inputs: unknown) => RequestSize = (inputs) => measureTextInputs(inputs);
  let inThread: InThreadLane | undefined;
  const lanes: Lane[] = options.createLanes
    ? options.createLanes({ definition, limits, observer, batching })
    : [(inThread = createInThreadLane({ functionName: name, definition, limits, loadModel, observer, batching }))];
  if (lanes.length === 0) throw new Error(`function ${name} has no lane to run its model on`);
  const scheduler: FunctionScheduler = createFunctionScheduler({
    functionName: name,
    lanes,
    settings: serving,
    batches: batching && endpoint.answerBatch !== undefined,
    reportsRuns: endpoint.observe !== undefined,
    measure: (inputs) => measure(inputs),
    events,
  });

  let state: FunctionState = 'idle';
  let loading: Promise<unknown> | undefined;
  let loaded: LoadedLane | undefined;
  let failure: string | undefined;
  let loadMilliseconds: number | undefined;
  const unavailable = () => new ServingError('model_unavailable', failure ?? 'the model failed to load');
  const waitUntilReady = async (): Promise<void> => {
    if (state === 'failed') throw unavailable();
    if (state === 'idle' || host.waitWhileLoading) {
      try {
        await host.load();
        return;
      } catch {
        throw unavailable();
      }
    }
    throw new ServingError('model_loading', `model ${definition.model} is still loading; retry shortly`, LOADING_RETRY_AFTER_SECONDS);
  };
  /** A rejection for an input too long in characters to fit the token limit, found before anything tokenizes it. */
  const refuseLongInputs = (call: { inputs: unknown; parameters: Record<string, unknown> }): Promise<never> | undefined => {
    const charactersPerToken = loaded?.charactersPerToken;
    if (charactersPerToken === undefined || !endpoint.refusesLongInputs?.(call.parameters as never, loaded!.description)) return undefined;
    try {
      refuseInputsOverCharacters(call.inputs, readEffectiveLimits(host).maxInputTokens, charactersPerToken);
      return undefined;
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const host: FunctionHost = {
    name,
    route: definition.route ?? `/${name}`,
    definition,
    endpoint,
    waitWhileLoading: options.waitWhileLoading ?? false,
    limits,
    serving,
    laneCount: lanes.length,
    state: () => state,
    failure: () => failure,
    loadMilliseconds: () => loadMilliseconds,
    runner: () => (state === 'ready' ? inThread?.prepared()?.runner : undefined),
    model: () => (state === 'ready' ? inThread?.prepared()?.model : undefined),
    description: () => loaded?.description,
    modelInfo: () => loaded?.model,
    queueDepth: () => scheduler.queueDepth(),
    submit({ inputs, parameters, stream = false, signal, onConfidence }) {
      const call = { inputs, parameters: { ...definition.parameters, ...parameters }, stream };
      const clientSignal = typeof signal === 'function' || signal === undefined ? signal : () => signal;
      // A ready function queues at once: no extra turns of the microtask queue on the request path.
      const answered =
        state === 'ready'
          ? (refuseLongInputs(call) ?? scheduler.submit(call, clientSignal))
          : waitUntilReady().then(() => refuseLongInputs(call) ?? scheduler.submit(call, clientSignal));
      const separateEvent = endpoint.separateEventConfidence;
      if (stream && separateEvent) {
        return answered.then((answer) => (isAsyncIterable(answer) ? separateStreamConfidence(answer, (event) => separateEvent(event, call.parameters), onConfidence) : answer));
      }
      const separate = endpoint.separateConfidence;
      if (!separate || stream) return answered;
      return answered.then((answer) => {
        const separated = separate(answer, call.parameters);
        onConfidence?.(separated.confidence);
        return separated.answer;
      });
    },
    async release() {
      await Promise.allSettled(lanes.map((lane) => lane.release()));
    },
    load() {
      loading ??= (async () => {
        state = 'loading';
        const started = performance.now();
        try {
          // Every lane loads its own sessions; the function is ready once all of them are.
          const results = await Promise.allSettled(lanes.map((lane) => lane.load()));
          const rejected = results.find((result) => result.status === 'rejected');
          if (rejected) throw rejected.reason;
          loaded = (results[0] as PromiseFulfilledResult<LoadedLane>).value;
          if (batching && endpoint.createMeasure) {
            // Lanes on other threads keep their model there; this thread loads the bundle (tokenizer, no session).
            // Without it, requests are sized from text length: batches pad more, answers are the same.
            const model = inThread?.prepared()?.model ?? (await loadModel(definition).catch(() => undefined));
            if (model) measure = endpoint.createMeasure(model);
          }
          loadMilliseconds = performance.now() - started;
          state = 'ready';
          events.modelLoaded(name, loadMilliseconds);
          return inThread?.prepared()?.runner;
        } catch (error) {
          state = 'failed';
          failure = `function ${name} could not load model ${definition.model}: ${(error as Error).message}`;
          await Promise.allSettled(lanes.map((lane) => lane.release()));
          throw new Error(failure, { cause: error });
        }
      })();
      return loading;
    },
  };
  return host;
}

/**
 * The limits a request meets: the function's, tightened by its loaded model's own (a classifier's 128 tokens under
 * a function's 4096), so that `GET /<function>` and the API reference show the figure a request is refused at.
 */
export function readEffectiveLimits(host: FunctionHost): Required<FunctionLimits> {
  const modelLimits = host.description()?.limits ?? {};
  const limits = { ...host.limits };
  for (const [name, value] of Object.entries(modelLimits) as [keyof FunctionLimits, number | undefined][]) {
    if (value !== undefined) limits[name] = Math.min(limits[name], value);
  }
  return limits;
}
