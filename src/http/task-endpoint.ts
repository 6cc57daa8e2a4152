import type * as z from 'zod/mini';
import type { ModelBundle } from '../models/model-bundle.ts';

/** Limits a function sets on its requests. Unset ones fall back to the task's defaults. */
export interface FunctionLimits {
  /** Largest request body, in bytes. */
  maxBodyBytes?: number;
  /** Most texts in one request's `inputs` array. */
  maxInputs?: number;
  /** Most tokens in one input, after tokenization. */
  maxInputTokens?: number;
  /** Ceiling on `max_new_tokens` for generation. */
  maxNewTokens?: number;
}

export interface EndpointContext<Parameters> {
  /** The function's default parameters, already merged under the request's own. */
  parameters: Parameters;
  limits: Required<FunctionLimits>;
  /** The request asked for a streamed answer (`"stream": true`). */
  stream: boolean;
  signal: AbortSignal;
}

/**
 * What the HTTP layer needs from a task: how to prepare a model for it, what a request looks like,
 * and how to answer one. One endpoint per task; a function picks one and names a model.
 */
export interface TaskEndpoint<Runner = unknown, Inputs = unknown, Parameters = Record<string, unknown>, Answer = unknown> {
  readonly task: string;
  /** Validates `inputs`. */
  readonly inputsSchema: z.ZodMiniType<Inputs>;
  /** Validates `parameters`; unknown keys are refused so that typos do not pass silently. */
  readonly parametersSchema: z.ZodMiniType<Parameters>;
  readonly defaultLimits: Required<FunctionLimits>;
  /** Opens the model's sessions and checks that the model fits the task. */
  prepare(model: ModelBundle): Promise<Runner>;
  /** One small run so that the first real request does not pay for lazy initialisation. */
  warmUp(runner: Runner): Promise<void>;
  /** What `GET /<function>` reports about the prepared model (labels, kind, ...). */
  describe(runner: Runner): Record<string, unknown>;
  /** Answers one request. An AsyncIterable answer is sent as server-sent events, one event per item. */
  answer(runner: Runner, inputs: Inputs, context: EndpointContext<Parameters>): Promise<Answer | AsyncIterable<unknown>>;
}
