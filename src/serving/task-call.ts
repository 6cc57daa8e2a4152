import { HttpError } from '../http/errors.ts';
import { InputError, type InputErrorReason } from '../tasks/input-error.ts';

/** One validated request as a task sees it: inputs, parameters (the function's defaults merged under the request's). */
export interface TaskCall {
  inputs: unknown;
  parameters: Record<string, unknown>;
  /** The request asked for a streamed answer. */
  stream: boolean;
}

/** What a call gave: its answer, or why it failed. Plain data, so it can cross to and from a worker thread. */
export type CallOutcome = { ok: true; value: unknown } | { ok: false; error: CallFailure };

/** An error the client may see (bad input, an HTTP error a task raised) keeps its details; any other is internal. */
export type CallFailure =
  | { kind: 'input'; reason: InputErrorReason; message: string }
  | { kind: 'http'; status: number; code: string; message: string; headers: Record<string, string> }
  | { kind: 'internal'; message: string };

export function describeFailure(error: unknown): CallFailure {
  if (error instanceof InputError) return { kind: 'input', reason: error.reason, message: error.message };
  if (error instanceof HttpError) return { kind: 'http', status: error.status, code: error.code, message: error.message, headers: error.headers };
  return { kind: 'internal', message: error instanceof Error ? error.message : String(error) };
}

/** The error to throw for a failure that came back from a worker, as the HTTP layer knows it. */
export function toError(failure: CallFailure): Error {
  if (failure.kind === 'input') return new InputError(failure.reason, failure.message);
  if (failure.kind === 'http') return new HttpError(failure.status as HttpError['status'], failure.code, failure.message, failure.headers);
  return new Error(failure.message);
}
