import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ServingError, type ServingErrorKind } from '../serving/serving-error.ts';
import { InputError } from '../tasks/input-error.ts';
import { respondJson } from './respond-json.ts';

/** An error with the HTTP status, machine-readable code and message it is answered with. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The JSON body of every error answer: a machine-readable `code` and a `message` that says what is wrong. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** How an API surface writes its error bodies (the OpenAI routes' `{error: {message, type, param, code}}`). */
export type ErrorBodyFormat = (error: HttpError) => unknown;

declare module 'hono' {
  interface ContextVariableMap {
    /** The code of the error this request was answered with, for its log line. */
    errorCode: string;
    /** Set on the paths of a surface whose clients read errors in their own shape; honnx's shape when unset. */
    errorBodyFormat: ErrorBodyFormat | undefined;
  }
}

export function sendError(c: Context, error: HttpError): Response {
  c.set('errorCode', error.code);
  const format = c.get('errorBodyFormat');
  const body: unknown = format ? format(error) : ({ error: { code: error.code, message: error.message } } satisfies ErrorBody);
  return respondJson(c, body, error.status, error.headers);
}

/** What the client is told of a function's error; one the client cannot be told about (a bug, a failed run) goes to stderr. */
export function reportFunctionError(functionName: string, error: unknown): HttpError {
  const httpError = toHttpError(error);
  if (httpError.status >= 500 && httpError.code === 'internal_error') console.error(`function ${functionName}:`, error);
  return httpError;
}

const INPUT_ERROR_STATUS = { invalid: [400, 'invalid_input'], empty: [400, 'empty_input'], too_large: [413, 'input_too_large'] } as const;

/**
 * Serving conditions as HTTP answers: the one place the scheduler's and the submit path's errors become statuses.
 * 499 is nginx's "client closed request": nobody reads the answer of a request whose client left, and logs say so.
 */
const SERVING_ERROR_STATUS: Record<ServingErrorKind, [status: number, code: string]> = {
  queue_full: [429, 'queue_full'],
  timeout: [504, 'timeout'],
  client_closed: [499, 'client_closed_request'],
  shutting_down: [503, 'shutting_down'],
  model_loading: [503, 'model_loading'],
  model_unavailable: [503, 'model_unavailable'],
};

/** Maps whatever a handler threw to what the client is told. Unknown errors never leak their details. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof ServingError) {
    const [status, code] = SERVING_ERROR_STATUS[error.kind];
    const headers: Record<string, string> = error.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(error.retryAfterSeconds) };
    return new HttpError(status as HttpError['status'], code, error.message, headers);
  }
  if (error instanceof InputError) {
    const [status, code] = INPUT_ERROR_STATUS[error.reason];
    return new HttpError(status, code, error.message);
  }
  return new HttpError(500, 'internal_error', 'the function failed while answering; the error is in the server log');
}
