import type { Context } from 'hono';

// A mark on the response itself: a WeakSet entry costs several times more per request.
const JSON_ANSWER = Symbol('honnx.jsonAnswer');

/**
 * A JSON answer whose headers are a plain object, with the request's id (`X-Request-Id`) among them. On Node,
 * @hono/node-server writes such a response straight from that object; `c.json` after a `c.header` builds a
 * `Headers` object that is created, filled and iterated again for the write (2-3% of a small model's request).
 * Headers a middleware set before the handler (CORS) are still merged in by Hono.
 */
export function respondJson(c: Context, body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const requestId = c.get('requestId');
  const response = new Response(JSON.stringify(body), {
    status,
    headers: requestId === undefined ? { 'Content-Type': 'application/json', ...headers } : { 'Content-Type': 'application/json', 'X-Request-Id': requestId, ...headers },
  });
  (response as Response & { [JSON_ANSWER]?: true })[JSON_ANSWER] = true;
  return response;
}

/** Whether `respondJson` built this response: it is not a stream, and it carries the request id already. */
export const isJsonAnswer = (response: Response): boolean => (response as Response & { [JSON_ANSWER]?: true })[JSON_ANSWER] === true;
