import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { servesShipped } from '../support/function-set.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { discoverTestFunctions } from '../support/test-functions.ts';
import { createRandom, generateRequest, type FuzzRequest } from './generate-requests.ts';

const projectRoot = join(import.meta.dirname, '../..');
// HONNX_FUZZ_REQUESTS lowers it for a quick run over a larger function set (npm run test:function-set).
const REQUESTS_PER_FUNCTION = Number(process.env.HONNX_FUZZ_REQUESTS ?? 10_000);
const CONCURRENCY = 8;
// Whatever discovery finds in functions/ (or HONNX_TEST_FUNCTIONS), as the server finds them.
const { named, functions } = await discoverTestFunctions();

/** A seed per function name (FNV-1a), so that adding a function to the set leaves the others' requests as they were. */
function seedOf(name: string): number {
  let hash = 0x811c9dc5;
  for (const char of name) hash = Math.imul(hash ^ char.codePointAt(0)!, 0x01000193) >>> 0;
  return hash;
}

interface Outcome {
  request: FuzzRequest;
  status?: number;
  retryAfter?: string;
  contentType?: string;
  body?: string;
  error?: string;
}

/** Sends one request over node:http, so that raw bytes, any method and any content type go out as written. */
function send(agent: Agent, port: number, fuzz: FuzzRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...fuzz.headers };
    if (fuzz.body) headers['content-length'] = fuzz.body.byteLength;
    // A body over a function's limit is refused before it is read, and Node then closes that connection; a kept-alive
    // client reusing it sees ECONNRESET on its *next* request (see the report). Such bodies get a connection of their own.
    const ownConnection = (fuzz.body?.byteLength ?? 0) > 200_000;
    if (ownConnection) headers.connection = 'close';
    const outgoing = request({ agent: ownConnection ? false : agent, host: '127.0.0.1', port, path: fuzz.path, method: fuzz.method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          request: fuzz,
          status: response.statusCode,
          retryAfter: response.headers['retry-after'],
          contentType: response.headers['content-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      response.on('aborted', () => resolve({ request: fuzz, error: 'answer cut short' }));
      response.on('error', (error) => resolve({ request: fuzz, error: String(error) }));
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => resolve({ request: fuzz, error: `${error.code}: ${error.message}` }));
    outgoing.end(fuzz.body);
  });
}

/** Runs `requests` with at most `concurrency` in flight. */
async function sendAll(agent: Agent, port: number, requests: FuzzRequest[], concurrency: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(requests.length);
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const index = next++;
      outcomes[index] = await send(agent, port, requests[index]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

/** What is wrong with an answer, or undefined when it is acceptable. */
function findProblem(outcome: Outcome): string | undefined {
  if (outcome.error) return outcome.error;
  const status = outcome.status!;
  if ((status === 429 || status === 503) && outcome.retryAfter) return undefined;
  if (status >= 500 || status < 200 || (status >= 300 && status < 400)) return `status ${status}`;
  // A stream that started 200 and then failed inside is a 5xx the status line cannot show.
  if (outcome.body && /event: ?error/.test(outcome.body) && outcome.body.includes('internal_error')) return 'internal_error inside a 200 stream';
  if (status >= 400 && outcome.request.method !== 'HEAD') {
    if (!outcome.contentType?.includes('application/json')) return `${status} answered as ${outcome.contentType}`;
    const parsed = JSON.parse(outcome.body!) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code !== 'string' || typeof parsed.error.message !== 'string') return `${status} without the JSON error shape`;
  }
  if (outcome.request.expectOk && status !== 200) return `a well-formed request answered ${status}: ${outcome.body?.slice(0, 200)}`;
  return undefined;
}

/** A short, replayable description of a failing request. */
function describeFailure(outcome: Outcome, problem: string): string {
  const { kind, method, path, headers, body } = outcome.request;
  const shown = body ? (body.byteLength > 300 ? `${body.subarray(0, 300).toString('latin1')}… (${body.byteLength} bytes)` : body.toString('latin1')) : '';
  return `${problem} — ${kind}: ${method} ${path} ${JSON.stringify(headers)} ${JSON.stringify(shown)} → ${outcome.body?.slice(0, 300)}`;
}

describe('fuzzing the HTTP API of the discovered functions on a real Node server', () => {
  let server: ServerType | undefined;
  let port = 0;
  beforeAll(async () => {
    const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
    const { app, ready } = createNodeApp({ functions: named, engine: createNodeEngine({ threads: 1 }), searchPaths });
    await ready();
    server = await new Promise<ServerType>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
    });
    port = (server.address() as AddressInfo).port;
  }, 120_000);
  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it.each(functions.map((fn) => ({ fn, name: fn.name, seed: seedOf(fn.name) })))(
    '$name: $seed-seeded requests are answered 2xx or 4xx, never 5xx or a dropped connection',
    async ({ fn, name, seed }) => {
      const random = createRandom(seed);
      const requests = Array.from({ length: REQUESTS_PER_FUNCTION }, () => generateRequest(random, fn));
      // Fresh connections per function: making 10,000 requests can hold the event loop past the server's 5 s keep-alive
      // time-out on a loaded machine, and sockets it closed meanwhile would be reused before their close is seen.
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const outcomes = await sendAll(agent, port, requests, CONCURRENCY).finally(() => agent.destroy());

      expect(outcomes).toHaveLength(REQUESTS_PER_FUNCTION);
      const failures = outcomes.flatMap((outcome) => {
        const problem = findProblem(outcome);
        return problem ? [describeFailure(outcome, problem)] : [];
      });
      expect(failures.slice(0, 10), `${failures.length} of ${outcomes.length} failed`).toEqual([]);

      const byStatus = new Map<number, number>();
      for (const outcome of outcomes) byStatus.set(outcome.status!, (byStatus.get(outcome.status!) ?? 0) + 1);
      const count = (predicate: (status: number) => boolean) => [...byStatus].filter(([status]) => predicate(status)).reduce((sum, [, n]) => sum + n, 0);
      // Every request got an answer, and the mix exercised both the model and the refusals.
      expect(count((status) => status >= 200 && status < 300) + count((status) => status >= 400 && status < 500)).toBe(REQUESTS_PER_FUNCTION);
      expect(count((status) => status === 200)).toBeGreaterThan(REQUESTS_PER_FUNCTION / 10);
      expect(count((status) => status === 400)).toBeGreaterThan(REQUESTS_PER_FUNCTION / 10);
      expect(count((status) => status >= 500)).toBe(0);
      console.log(`${name}: ${JSON.stringify(Object.fromEntries([...byStatus].sort(([a], [b]) => a - b)))}`);
    },
    300_000,
  );

  it.runIf(servesShipped(functions, 'classify'))('answers a normal request correctly afterwards', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const [outcome] = await sendAll(agent, port, [{ kind: 'after', method: 'POST', path: '/classify', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ inputs: 'I love this' })) }], 1).finally(() => agent.destroy());
    expect(outcome.status).toBe(200);
    const body = JSON.parse(outcome.body!) as { label: string; score: number }[][];
    // sentiment-sst2-mini sanity.json: "I love this" → POSITIVE 0.99422.
    expect(body[0][0].label).toBe('POSITIVE');
    expect(body[0][0].score).toBeCloseTo(0.9942, 3);
  });
});
