import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
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

export interface ErrorBody {
  error: { code: string; message: string };
}

declare module 'hono' {
  interface ContextVariableMap {
    /** The code of the error this request was answered with, for its log line. */
    errorCode: string;
  }
}

/** Nobody reads the answer of a request whose client left; 499 (nginx's "client closed request") says so in logs. */
export function clientClosedRequest(before: string): HttpError {
  return new HttpError(499 as HttpError['status'], 'client_closed_request', `the client closed the connection before ${before}`);
}

export function sendError(c: Context, error: HttpError): Response {
  c.set('errorCode', error.code);
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  return respondJson(c, body, error.status, error.headers);
}

const INPUT_ERROR_STATUS = { invalid: [400, 'invalid_input'], empty: [400, 'empty_input'], too_large: [413, 'input_too_large'] } as const;

/** Maps whatever a handler threw to what the client is told. Unknown errors never leak their details. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof InputError) {
    const [status, code] = INPUT_ERROR_STATUS[error.reason];
    return new HttpError(status, code, error.message);
  }
  return new HttpError(500, 'internal_error', 'the function failed while answering; the error is in the server log');
}
