import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { sendThrough, type FetchHandler, type SendRequest } from './requests.ts';

export interface Transport {
  name: string;
  /** Starts the transport for an app's fetch handler; returns how to send requests and how to stop. */
  start(fetch: FetchHandler): Promise<{ send: SendRequest; stop(): Promise<void> }>;
}

/**
 * Every HTTP suite runs twice, as in h3: straight against the web `fetch` handler (what Workers call), and
 * against a real Node server over a loopback socket (what `npm start` serves). Node-only: workerd tests send
 * through `sendThrough` in ./requests.ts instead.
 */
export const transports: Transport[] = [
  {
    name: 'fetch handler',
    async start(fetch) {
      return { send: sendThrough(fetch), stop: async () => {} };
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
