import { connect } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { readBodyBytesInFlight } from '../../src/http/body-bytes-in-flight.ts';
import { readErrorBody } from '../support/requests.ts';
import { transports } from '../support/transports.ts';
import { captureLogs, createControlledFunction, createLoadedApp } from '../observability/serving-fixtures.ts';

/** A JSON body sent without a Content-Length (chunked on a socket), `chunks` pieces of `chunkBytes` inside its text. */
function streamedJson(chunks: number, chunkBytes: number): { init: RequestInit; pulled: () => number } {
  const piece = new TextEncoder().encode('a'.repeat(chunkBytes));
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"inputs":"'));
    },
    pull(controller) {
      if (pulled === chunks) {
        controller.enqueue(new TextEncoder().encode('"}'));
        controller.close();
        return;
      }
      pulled++;
      controller.enqueue(piece);
    },
  });
  const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit;
  return { init, pulled: () => pulled };
}

describe.each(transports)('request bodies without a declared length ($name)', (transport) => {
  async function start() {
    const controlled = createControlledFunction();
    const app = await createLoadedApp({ functions: [controlled], logger: captureLogs().logger });
    return transport.start(app.fetch);
  }

  it('are read and answered when within the limit', async () => {
    const started = await start();
    try {
      const response = await started.send('/controlled', streamedJson(4, 1000).init);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual([{ echo: 'a'.repeat(4000) }]);
    } finally {
      await started.stop();
    }
  });

  it('are refused with 413 once they pass the limit, without reading the rest', async () => {
    const started = await start();
    try {
      // The controlled function's limit is 64 KiB; this body would be 64 MiB.
      const body = streamedJson(1024, 64 * 1024);
      const response = await started.send('/controlled', body.init);
      expect(response.status).toBe(413);
      expect(body.pulled()).toBeLessThan(1024);
      const error = await readErrorBody(response);
      expect(error.code).toBe('body_too_large');
      expect(error.message).toMatch(/limit of 65536 bytes/);
    } finally {
      await started.stop();
    }
  });
});

describe('a client that leaves while sending its body', () => {
  async function startLogged() {
    const logs = captureLogs('info');
    const app = await createLoadedApp({ functions: [createControlledFunction()], logger: logs.logger });
    return { logs, app };
  }

  it('is logged as 499 client_closed_request on a real server, not as a server error', async () => {
    const { logs, app } = await startLogged();
    const server = await new Promise<ServerType>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
    });
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const { port } = server.address() as AddressInfo;
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('POST /controlled HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"inputs":"abc');
      // The server is reading the body (its 1000 bytes reserved) when the client leaves.
      await vi.waitFor(() => expect(readBodyBytesInFlight()).toBe(1000), { interval: 5 });
      socket.destroy();
      await vi.waitFor(() => expect(logs.records()).toMatchObject([{ level: 'info', status: 499, error_code: 'client_closed_request' }]));
      expect(stderr).not.toHaveBeenCalled();
    } finally {
      stderr.mockRestore();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('is answered 499 client_closed_request by the fetch handler when the body stream fails', async () => {
    const { app } = await startLogged();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"inputs":"abc'));
        controller.error(new Error('connection reset'));
      },
    });
    const response = await app.fetch(new Request('http://honnx.test/controlled', { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit));
    expect(response.status).toBe(499);
    expect((await readErrorBody(response)).code).toBe('client_closed_request');
  });
});
