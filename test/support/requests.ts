import { expect } from 'vitest';

// Runtime-neutral request helpers: imported by Node suites and inside workerd alike, so nothing Node-only here.

/** Sends a request to the app under test and returns the response. */
export type SendRequest = (path: string, init?: RequestInit) => Promise<Response>;

/** A web `fetch` handler, as Hono apps and Workers modules expose it. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Sends straight to a `fetch` handler, with no socket between: what the Workers runtime does. */
export function sendThrough(fetch: FetchHandler, origin = 'http://honnx.test'): SendRequest {
  return async (path, init) => fetch(new Request(new URL(path, origin), init));
}

/** A JSON POST; a string body is sent as it is, so that tests can send malformed JSON. */
export const postJson = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** Checks that an error response has honnx's JSON error shape, and returns its error. */
export async function readErrorBody(response: Response): Promise<{ code: string; message: string }> {
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(typeof body.error.code).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}
