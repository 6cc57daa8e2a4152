import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readBodyBytesInFlight } from '../../src/http/body-bytes-in-flight.ts';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import { startNodeServer, type RunningServer } from '../../src/runtime/node/node-server.ts';
import { mirrorFolder } from '../support/shared-models.ts';

/**
 * Issue 16, defect 3: a hostile client against the body reader of the real Node server (`startNodeServer`, what
 * `honnx serve` runs). A request whose headers and body do not arrive in time is answered 408; bodies being read
 * at once hold at most HONNX_BODY_BYTES_IN_FLIGHT, and a request past it is answered 503 at once.
 */
const projectRoot = join(import.meta.dirname, '../..');
const IN_FLIGHT_LIMIT = 1_000_000;

/** Opens a connection, sends `head` (and nothing more unless told), and resolves with the status line it gets. */
function sendPart(port: number, head: string): { socket: Socket; answer: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  socket.write(head);
  const answer = new Promise<string>((resolve) => {
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', () => resolve(received));
  });
  return { socket, answer };
}

const postHead = (length: number) => `POST /classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{"inputs": "`;

describe('a hostile client against the body reader of the Node server', () => {
  let running: RunningServer;
  let port: number;
  const saved = { ...process.env };
  beforeAll(async () => {
    Object.assign(process.env, { HONNX_MIRROR: mirrorFolder, HONNX_LOG_LEVEL: 'error', HONNX_REQUEST_READ_TIMEOUT: '1', HONNX_BODY_BYTES_IN_FLIGHT: String(IN_FLIGHT_LIMIT) });
    const functions = (await discoverFunctions(join(projectRoot, 'functions'))).filter(({ name }) => name === 'classify');
    running = await startNodeServer({ functions, projectRoot, host: '127.0.0.1', port: 0, workers: 0 });
    await running.ready;
    port = Number(new URL(running.url).port);
  }, 60_000);
  afterAll(async () => {
    await running?.close();
    process.env = saved;
  });

  it('a body that stops arriving is answered 408 and its connection closed', async () => {
    const { answer } = sendPart(port, postHead(100_000));
    expect(await answer).toMatch(/^HTTP\/1\.1 408/);
  }, 30_000);

  it('headers that never end are answered 408 too', async () => {
    const { answer } = sendPart(port, 'POST /classify HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(await answer).toMatch(/^HTTP\/1\.1 408/);
  }, 30_000);

  it('bodies past the in-flight limit are refused 503 at once, while the first are still arriving', async () => {
    const held = [sendPart(port, postHead(400_000)), sendPart(port, postHead(400_000))];
    // Both are being read (their headers are in, their bytes reserved) before the third comes.
    await vi.waitFor(() => expect(readBodyBytesInFlight()).toBe(800_000), { interval: 5 });
    const third = sendPart(port, postHead(400_000));
    const answer = await Promise.race([third.answer, ...held.map((part) => part.answer.then(() => 'a held request ended first'))]);
    expect(answer).toMatch(/^HTTP\/1\.1 503/);
    expect(answer).toContain('"code":"server_busy"');
    expect(answer).toContain(String(IN_FLIGHT_LIMIT));
    for (const part of held) part.socket.destroy();
    // A normal request is answered afterwards.
    const response = await fetch(`${running.url}/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs": "I love this"}' });
    expect(response.status).toBe(200);
  }, 30_000);
});
