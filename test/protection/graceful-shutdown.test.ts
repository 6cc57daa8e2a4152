import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mirrorFolder } from '../support/shared-models.ts';

const projectRoot = join(import.meta.dirname, '../..');

/** What became of one request: a whole answer, a connection refused (never accepted), or anything else. */
type Outcome =
  | { kind: 'answered'; path: string; status: number; body: string; sentBeforeSignal: boolean; endedAfterSignal: boolean }
  | { kind: 'refused'; path: string }
  | { kind: 'failed'; path: string; error: string };

interface ServerProcess {
  child: ChildProcess;
  url: URL;
  records: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `honnx serve` in a child process on a free port, serving functions/ from the mirror; resolves once it is ready. */
async function startServer(): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(projectRoot, 'bin/honnx.mjs'), 'serve', '--port', '0', '--host', '127.0.0.1'], {
    cwd: projectRoot,
    env: { ...process.env, HONNX_MIRROR: mirrorFolder, HONNX_CACHE: mkdtempSync(join(tmpdir(), 'honnx-cache-')), HONNX_LOG_LEVEL: 'info', HONNX_SHUTDOWN_TIMEOUT: '30' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const records: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<URL>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line);
      } catch {
        return;
      }
      records.push(record);
      if (record.event === 'ready') resolve(new URL(record.url as string));
    });
    void exited.then(({ code }) => reject(new Error(`honnx serve exited (${code}) before it was ready:\n${stderr}`)));
  });
  return { child, url, records, exited };
}

/** One POST over a kept-alive connection pool, read to its end. */
function post(agent: Agent, url: URL, path: string, body: unknown, signalled: () => boolean): Promise<Outcome> {
  const sentBeforeSignal = !signalled();
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const outgoing = request(
      { agent, host: url.hostname, port: url.port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ kind: 'answered', path, status: response.statusCode!, body: text, sentBeforeSignal, endedAfterSignal: signalled() }));
        response.on('aborted', () => resolve({ kind: 'failed', path, error: 'answer cut short' }));
        response.on('error', (error) => resolve({ kind: 'failed', path, error: String(error) }));
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'ECONNREFUSED' ? { kind: 'refused', path } : { kind: 'failed', path, error: `${error.code}: ${error.message}` }),
    );
    outgoing.end(payload);
  });
}

/** Whether an answer is whole: JSON that parses, or a stream whose last event carries the finished text. */
function isWholeAnswer(outcome: Extract<Outcome, { kind: 'answered' }>): boolean {
  if (!outcome.body.startsWith('data:')) {
    JSON.parse(outcome.body);
    return true;
  }
  const events = outcome.body.split('\n').filter((line) => line.startsWith('data:'));
  return (JSON.parse(events.at(-1)!.slice(5)) as { generated_text: string | null }).generated_text !== null;
}

const REQUESTS: [string, unknown][] = [
  ['/classify', { inputs: ['I love this', 'The movie was boring and far too long'] }],
  ['/extract', { inputs: 'Angela Merkel met Emmanuel Macron in Paris on Tuesday' }],
  ['/generate', { inputs: 'Once upon a time', parameters: { max_new_tokens: 48, do_sample: false } }],
  ['/langid', { inputs: 'Ich liebe dieses Buch sehr.' }],
];

describe('SIGTERM under load, against `honnx serve` in a child process', () => {
  let server: ServerProcess | undefined;
  afterAll(() => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
  });

  it('answers every request it accepted, whole, then exits 0', async () => {
    server = await startServer();
    const { url, child, records, exited } = server;
    const agent = new Agent({ keepAlive: true });
    let signalled = false;
    const outcomes: Outcome[] = [];

    // Each loop sends its next request as soon as the last is answered, until the server refuses connections.
    const loop = async (index: number) => {
      for (let count = 0; ; count++) {
        const [path, body] = REQUESTS[(index + count) % REQUESTS.length];
        const outcome = await post(agent, url, path, body, () => signalled);
        outcomes.push(outcome);
        if (outcome.kind !== 'answered') return;
      }
    };
    const loops = Array.from({ length: 8 }, (_, index) => loop(index));

    // Under load for a while first: every loop has a kept-alive connection and has been answered many times.
    await vi.waitFor(() => expect(outcomes.length).toBeGreaterThanOrEqual(100), { timeout: 60_000, interval: 20 });

    // A long stream, certainly still running when the signal comes: it must still end with its last event.
    const streamed = new Promise<Outcome>((resolve) => {
      const payload = JSON.stringify({ inputs: 'Lily and Tom went to the', stream: true, parameters: { max_new_tokens: 256, do_sample: true, seed: 7 } });
      const outgoing = request({ agent, host: url.hostname, port: url.port, path: '/generate', method: 'POST', headers: { 'content-type': 'application/json' } }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
          // The first event is out: the request is accepted and running. Now the signal, under load.
          if (!signalled) {
            signalled = true;
            child.kill('SIGTERM');
          }
        });
        response.on('end', () =>
          resolve({ kind: 'answered', path: '/generate (stream)', status: response.statusCode!, body: text, sentBeforeSignal: true, endedAfterSignal: signalled }),
        );
        response.on('aborted', () => resolve({ kind: 'failed', path: '/generate (stream)', error: 'stream cut short' }));
      });
      outgoing.on('error', (error) => resolve({ kind: 'failed', path: '/generate (stream)', error: String(error) }));
      outgoing.end(payload);
    });

    outcomes.push(await streamed);
    await Promise.all(loops);
    const { code, signal } = await exited;
    agent.destroy();

    const failures = outcomes.filter((outcome) => outcome.kind === 'failed');
    expect(failures, JSON.stringify(failures, null, 1)).toEqual([]);
    const answered = outcomes.filter((outcome): outcome is Extract<Outcome, { kind: 'answered' }> => outcome.kind === 'answered');
    expect(answered.filter((outcome) => outcome.status !== 200)).toEqual([]);
    for (const outcome of answered) expect(isWholeAnswer(outcome), `${outcome.path}: ${outcome.body.slice(-200)}`).toBe(true);
    // Requests running when the signal came were finished, not dropped: the stream at least, usually more.
    const running = answered.filter((outcome) => outcome.sentBeforeSignal && outcome.endedAfterSignal);
    expect(running.length).toBeGreaterThanOrEqual(1);
    // Each loop ended on a refused connection: the server stopped accepting, and every answer closed its connection.
    expect(outcomes.filter((outcome) => outcome.kind === 'refused')).toHaveLength(8);

    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const started = records.find((record) => record.event === 'shutdown_started');
    expect(started?.in_flight).toBeGreaterThanOrEqual(1);
    expect(records.some((record) => record.event === 'shutdown_complete')).toBe(true);
    // The server logged exactly the requests the clients got answers to: none was accepted and then lost.
    const logged = records.filter((record) => record.event === 'request' && record.method === 'POST');
    expect(logged).toHaveLength(answered.length);
    expect(logged.every((record) => record.status === 200)).toBe(true);
  });
});
