import { describe, expect, it } from 'vitest';
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
