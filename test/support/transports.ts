import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';

/** Sends a request to the app under test and returns the response. */
export type SendRequest = (path: string, init?: RequestInit) => Promise<Response>;

export interface Transport {
  name: string;
  /** Starts the transport for an app's fetch handler; returns how to send requests and how to stop. */
  start(fetch: (request: Request) => Response | Promise<Response>): Promise<{ send: SendRequest; stop(): Promise<void> }>;
}

/**
 * Every HTTP suite runs twice, as in h3: straight against the web `fetch` handler (what Workers call), and
 * against a real Node server over a loopback socket (what `npm start` serves).
 */
export const transports: Transport[] = [
  {
    name: 'fetch handler',
    async start(fetch) {
      return {
        send: async (path, init) => fetch(new Request(new URL(path, 'http://honnx.test'), init)),
        stop: async () => {},
      };
    },
  },
  {
    name: 'node server',
    async start(fetch) {
      const server = await new Promise<ServerType>((resolve) => {
        const started = serve({ fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
      });
      const { port } = server.address() as AddressInfo;
      return {
        send: (path, init) => globalThis.fetch(`http://127.0.0.1:${port}${path}`, init),
        stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    },
  },
];

export const postJson = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
