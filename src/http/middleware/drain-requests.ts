import type { MiddlewareHandler } from 'hono';
import { HttpError, sendError } from '../errors.ts';
import type { RequestDrain } from './request-drain.ts';
import { isEventStream, watchStream } from './response-end.ts';

const SHUTTING_DOWN_MESSAGE = 'the server is shutting down and could not finish this request in time; retry';

/** The last event of a stream cut at the deadline, in the shape function handlers send errors in. */
const SHUTDOWN_EVENT = new TextEncoder().encode(
  `event: error\ndata: ${JSON.stringify({ error: { code: 'shutting_down', message: SHUTTING_DOWN_MESSAGE } })}\n\n`,
);

const shuttingDown = () => new HttpError(503, 'shutting_down', SHUTTING_DOWN_MESSAGE, { 'Retry-After': '1', Connection: 'close' });

/**
 * Tracks each request (a stream until its end) in the drain. Once a shutdown began, every answer closes its
 * connection, so keep-alive clients move on instead of sending more; at the deadline, requests still running
 * are answered 503 and streams end with an error event. Every accepted request gets a whole HTTP answer.
 */
export function drainRequests(drain: RequestDrain): MiddlewareHandler {
  return async (c, next) => {
    if (drain.expired) return sendError(c, shuttingDown());
    drain.requestStarted();
    const deadline = drain.watchDeadline();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      deadline.release();
      drain.requestEnded();
    };
    try {
      const outcome = await Promise.race([next().then(() => 'answered' as const), deadline.reached.then(() => 'deadline' as const)]);
      if (outcome === 'deadline') {
        c.res = sendError(c, shuttingDown());
        release();
        return;
      }
      if (isEventStream(c.res)) c.res = watchStream(c.res, { onEnd: release, deadline: deadline.reached, finalChunk: SHUTDOWN_EVENT });
      else release();
      if (drain.draining) c.header('Connection', 'close');
    } catch (error) {
      release();
      throw error;
    }
  };
}
