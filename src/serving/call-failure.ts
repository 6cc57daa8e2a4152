import { InputError, type InputErrorReason } from '../tasks/input-error.ts';

/** What a call gave: its answer, or why it failed. Plain data, so it can cross to and from a worker thread. */
export type CallOutcome = { ok: true; value: unknown } | { ok: false; error: CallFailure };

/** An error the client may see (bad input) keeps its details; any other is internal. */
export type CallFailure =
  | { kind: 'input'; reason: InputErrorReason; message: string }
  | { kind: 'internal'; message: string };

export function describeFailure(error: unknown): CallFailure {
  if (error instanceof InputError) return { kind: 'input', reason: error.reason, message: error.message };
  return { kind: 'internal', message: error instanceof Error ? error.message : String(error) };
}

/** The error to throw for a failure that came back from a worker, as the thread that threw it would have. */
export function toError(failure: CallFailure): Error {
  if (failure.kind === 'input') return new InputError(failure.reason, failure.message);
  return new Error(failure.message);
}
