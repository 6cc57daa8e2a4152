import type * as z from 'zod/mini';
import type { ModelBundle } from '../models/model-bundle.ts';
import type { FunctionLimits } from './function-limits.ts';
import type { RequestSize } from './request-size.ts';
import type { RunObserver } from './run-observer.ts';
import type { ServingOptions } from './serving-options.ts';

/** What a task may size its model's memory by when it prepares it (generation: the context of one sequence). */
export interface PrepareContext {
  limits: Required<FunctionLimits>;
}

/** What a task endpoint's `answer` is given besides the inputs: parameters, limits, whether to stream, a stop signal. */
export interface EndpointContext<Parameters> {
  /** The function's default parameters, already merged under the request's own. */
  parameters: Parameters;
  limits: Required<FunctionLimits>;
  /** The request asked for a streamed answer (`"stream": true`). */
  stream: boolean;
  /** Stops the work when the client leaves or its time runs out; absent for work that runs to its end (a started batch). */
  signal?: AbortSignal;
  /**
   * Whether the function batches: the task may run this request together with others in progress (generation's
   * shared step loop). False when the function set `batching: false`; unset means true.
   */
  batching?: boolean;
  /** The function's answer schema (`defineFunction`'s `schema`): the task constrains and checks its answer by it. */
  schema?: z.core.$ZodType;
}

/** One request of a batch: its inputs and its parameters (the function's defaults merged under the request's own). */
export interface BatchedRequest<Inputs, Parameters> {
  inputs: Inputs;
  parameters: Parameters;
}

/** Each request's answer, or what it failed with; one entry per request, in order. */
export type BatchedAnswers<Answer> = ({ ok: true; value: Answer } | { ok: false; error: unknown })[];

/** Each answered input's confidence, and whether any is under the threshold the request or function set. */
export interface AnswerConfidence {
  /** One per input, in [0, 1]: what the task says its answer's confidence is (docs/architecture.md, "Confidence"). */
  confidences: number[];
  /** Some input's confidence is under `min_confidence`: a router may hand the request on to a larger model. */
  lowConfidence: boolean;
}

/**
 * What a function needs from a task: how to prepare a model for it, what a request looks like,
 * and how to answer one. One endpoint per task; a function picks one and names a model.
 */
export interface TaskEndpoint<Runner = unknown, Inputs = unknown, Parameters = Record<string, unknown>, Answer = unknown> {
  readonly task: string;
  /** Validates `inputs`. */
  readonly inputsSchema: z.ZodMiniType<Inputs>;
  /** Validates `parameters`; unknown keys are refused so that typos do not pass silently. */
  readonly parametersSchema: z.ZodMiniType<Parameters>;
  readonly defaultLimits: Required<FunctionLimits>;
  /**
   * One session per process: the model is large (a language model's weights are most of the process's memory), so
   * Node serves it from one worker thread with intra-op threads on every core, instead of a session per worker
   * thread; concurrent requests share its runs (generation's step loop decodes every stream in one batch).
   */
  readonly oneSessionPerProcess?: boolean;
  /** Opens the model's sessions and checks that the model fits the task. */
  prepare(model: ModelBundle, context?: PrepareContext): Promise<Runner>;
  /** One small run so that the first real request does not pay for lazy initialisation. */
  warmUp(runner: Runner): Promise<void>;
  /**
   * What `GET /<function>` reports about the prepared model (labels, kind, ...). Its `limits` key, when present, holds
   * the model's own limits (its token length): the function's limits are shown tightened to them, one true figure.
   */
  describe(runner: Runner): Record<string, unknown> & { limits?: FunctionLimits };
  /** Answers one request. An AsyncIterable answer is sent as server-sent events, one event per item. */
  answer(runner: Runner, inputs: Inputs, context: EndpointContext<Parameters>): Promise<Answer | AsyncIterable<unknown>>;
  /**
   * Answers several requests in as few model runs as it can, each exactly as `answer` would answer it alone
   * (same labels, scores within float rounding). One request's bad input fails that request only. Tasks
   * without it get a run per request.
   */
  answerBatch?(
    runner: Runner,
    requests: readonly BatchedRequest<Inputs, Parameters>[],
    limits: Required<FunctionLimits>,
    /** The function's answer schema, as in `EndpointContext.schema`. */
    schema?: z.core.$ZodType,
  ): Promise<BatchedAnswers<Answer>>;
  /**
   * How to size a request for batching (its rows and tokens), from the model's tokenizer: the scheduler groups
   * requests of similar length. Called once the model is loaded, on the thread that queues requests (which opens no
   * session for it). Without it, sizes are estimated from text length.
   */
  createMeasure?(model: ModelBundle): (inputs: unknown) => RequestSize;
  /**
   * Whether `limits.maxInputTokens` refuses (rather than cuts) each whole input of a request with these parameters,
   * on the model `description` (what `describe` reported) tells of. Then a text longer than maxInputTokens times the
   * most characters one token stands for cannot fit, and the request is refused before anything tokenizes it
   * (a prompt filling the body took seconds to tokenize before its 413). Absent: never.
   */
  refusesLongInputs?(parameters: Parameters, description: Record<string, unknown>): boolean;
  /** How this task's requests are scheduled unless the function says otherwise (batching, queue, time-out). */
  readonly defaultServing?: ServingOptions;
  /**
   * Tasks whose answers carry a confidence (the generative classify, extract and summarize): reads it from what
   * `answer` returned, for the request's log line and metrics, and gives the answer as the request asked to see it
   * (the confidence is an opt-in field of the answer). Not called for streams: `separateEventConfidence` is.
   */
  separateConfidence?(answer: Answer, parameters: Parameters): { answer: unknown; confidence: AnswerConfidence };
  /**
   * The same for a stream, per event (the one that carries the confidence: generation's last): the event as the
   * request asked to see it, and the confidence where the event has one. The function host calls it on every event.
   */
  separateEventConfidence?(event: unknown, parameters: Parameters): { event: unknown; confidence?: AnswerConfidence };
  /**
   * The answer's schema where the function decides it (a generative classifier's labels, an extract function's
   * `schema`, given here); the OpenAPI document shows it instead of the task's own.
   */
  describeAnswer?(schema: z.core.$ZodType | undefined): z.core.$ZodType;
  /** Registers who hears about runs that serve several requests at once (generation's shared step loop). */
  observe?(runner: Runner, observer: RunObserver): void;
}
