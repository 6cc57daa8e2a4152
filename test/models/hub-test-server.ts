import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMirrorHandler, type MirrorOptions } from '../../src/models/mirror/mirror-server.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

/** Answers a request itself (returns true) or lets the hub protocol server answer it (returns false). */
export type Intercept = (request: IncomingMessage, response: ServerResponse) => boolean;

export interface TestHub {
  url: string;
  requests: RecordedRequest[];
  /** Replaces the fault injected in front of the protocol server; `undefined` serves normally. */
  intercept: Intercept | undefined;
  close(): Promise<void>;
}

/**
 * A local server speaking the hub protocol over a folder of models, bound to 127.0.0.1 only, with a hook in
 * front of it for injecting faults (redirects, cuts, corruption, stalls) and a record of every request.
 */
export async function startTestHub(options: MirrorOptions): Promise<TestHub> {
  const serve = createMirrorHandler(options);
  const sockets = new Set<import('node:net').Socket>();
  const hub: TestHub = {
    url: '',
    requests: [],
    intercept: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((request, response) => {
    hub.requests.push({
      method: request.method ?? 'GET',
      path: decodeURIComponent(new URL(request.url ?? '/', 'http://hub.test').pathname),
      range: request.headers.range,
      authorization: request.headers.authorization,
    });
    if (hub.intercept?.(request, response)) return;
    serve(request, response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return hub;
}

/** A download (`/<repo>/resolve/<revision>/<file>`) of this file. */
export function isFileRequest(request: IncomingMessage, file: string): boolean {
  const path = decodeURIComponent(new URL(request.url ?? '/', 'http://hub.test').pathname);
  return request.method === 'GET' && path.includes('/resolve/') && path.endsWith(`/${file}`);
}
