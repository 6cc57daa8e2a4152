import type { MiddlewareHandler } from 'hono';
import type { Logger, LogFields } from '../logging/logger.ts';
import { readLoggedBody } from '../logging/request-body.ts';
import type { ServingMetrics } from '../metrics/serving-metrics.ts';
import type { AnswerConfidence } from '../../spec/task-endpoint.ts';
import { readRequestId } from './request-id.ts';
import { isJsonAnswer } from '../respond-json.ts';
import { isEventStream, watchStream, type StreamEnd } from './response-end.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The request's id: the caller's `X-Request-Id` when usable, else a fresh one; echoed in the answer. */
    requestId: string;
    /**
     * The function serving the request, if any: the one its path belongs to (from the surfaces, before any route
     * runs), then the one its surface let it into (`EnterFunction`), which may know only from the body.
     */
    functionName: string | undefined;
    /** What a generative task said of its answer's confidence, for the log line and `honnx_answer_confidence`. */
    answerConfidence: AnswerConfidence | undefined;
  }
}

export interface ObserveRequestsOptions {
  logger: Logger;
  metrics: ServingMetrics;
  /** Put the request body in the log line. Off unless a debug setting asks: bodies hold users' text. */
  logInputs: boolean;
  /** The name of the function a path belongs to, if a surface can tell from the path alone. */
  functionAt(path: string): string | undefined;
  /**
   * Runs a request's bookkeeping (its log line, its metrics) once its answer is on its way. Node passes
   * `setImmediate`, which runs after the answer is written: a client waiting for its answer does not wait for
   * the log. Unset: at once.
   */
  afterAnswer?: (work: () => void) => void;
}

const atOnce = (work: () => void) => work();

/** Probes and scrapes come every few seconds; their lines would drown the requests that matter. A 500 is a failure
 * of the server (error); other 5xx (loading, overloaded, timed out, shutting down) are conditions (warn). */
const ROUTINE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

const roundMilliseconds = (milliseconds: number) => Math.round(milliseconds * 100) / 100;

/** The log fields of an answer's confidence: the lowest of its inputs', and the flag when under the threshold. */
function describeConfidence({ confidences, lowConfidence }: AnswerConfidence): LogFields {
  const fields: LogFields = { confidence: Math.round(Math.min(...confidences) * 10_000) / 10_000 };
  if (lowConfidence) fields.low_confidence = true;
  return fields;
}

/**
 * The outermost middleware: gives each request its id, and once its answer has ended (a stream's last event
 * included) writes one log line and records it in the metrics. The line has the id, method, path, function,
 * status, duration and error code; never headers (they carry API keys) and never the body unless `logInputs`.
 */
export function observeRequests({ logger, metrics, logInputs, functionAt, afterAnswer = atOnce }: ObserveRequestsOptions): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const requestId = readRequestId(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    metrics.requestStarted();
    c.set('functionName', functionAt(c.req.path));
    let ended = false;
    const record = (fields: LogFields, status: number, milliseconds: number, functionName: string | undefined) => {
      metrics.requestEnded();
      // A CORS preflight is the browser asking, not a call of the function.
      if (functionName !== undefined && c.req.method !== 'OPTIONS') metrics.requestAnswered(functionName, status, milliseconds / 1000, c.get('modelVersion'));
      // A 200 with an error code is a stream that ended with an error event.
      const failed = status === 500 || fields.error_code === 'internal_error';
      const troubled = status >= 500 || (status < 300 && fields.error_code !== undefined);
      const level = ROUTINE_PATHS.has(c.req.path) ? 'debug' : failed ? 'error' : troubled ? 'warn' : 'info';
      if (!logger.enabled(level)) return;
      logger[level]('request', {
        request_id: requestId,
        method: c.req.method,
        path: c.req.path,
        ...(functionName === undefined ? {} : { function: functionName }),
        ...(c.get('modelVersion') === undefined ? {} : { model_version: c.get('modelVersion') }),
        status,
        duration_ms: roundMilliseconds(milliseconds),
        ...fields,
      });
    };
    const finish = (fields: LogFields) => {
      if (ended) return;
      ended = true;
      const milliseconds = performance.now() - started;
      // A stream whose client left is logged and counted 499, as an answer whose client left before it began.
      const status = fields.streamed === 'cancelled' ? 499 : c.res.status;
      const functionName = c.get('functionName');
      afterAnswer(() => record(fields, status, milliseconds, functionName));
    };
    try {
      await next();
    } catch (error) {
      finish({ error_code: 'internal_error' });
      throw error;
    }
    // Function answers and errors carry the id already (`respondJson`); adding a header to a finished response makes
    // Hono rebuild it, so only the rest (metrics, pages) get it here.
    if (!isJsonAnswer(c.res) && !c.res.headers.has('X-Request-Id')) c.header('X-Request-Id', requestId);
    const body = logInputs ? readLoggedBody(c) : undefined;
    // Every error answer, and a stream's error event (sent after its 200, so known only at its end), records its code.
    const fieldsAtEnd = (streamFields?: LogFields): LogFields => {
      const fields: LogFields = {};
      const errorCode = c.get('errorCode');
      if (errorCode !== undefined) fields.error_code = errorCode;
      const confidence = c.get('answerConfidence');
      if (confidence !== undefined && confidence.confidences.length > 0) {
        Object.assign(fields, describeConfidence(confidence));
        const functionName = c.get('functionName');
        if (functionName !== undefined) metrics.confidenceObserved(functionName, confidence.confidences, c.get('modelVersion'));
      }
      if (body !== undefined) fields.body = body;
      return streamFields ? Object.assign(fields, streamFields) : fields;
    };
    if (isEventStream(c.res)) {
      const firstByteMilliseconds = roundMilliseconds(performance.now() - started);
      c.res = watchStream(c.res, { onEnd: (end: StreamEnd) => finish(fieldsAtEnd({ streamed: end, first_byte_ms: firstByteMilliseconds })) });
    } else {
      finish(fieldsAtEnd());
    }
  };
}
