import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveServerSettings } from '../../src/http/settings/server-settings.ts';
import { postJson, type SendRequest } from '../support/requests.ts';
import { transports } from '../support/transports.ts';
import { captureLogs, createControlledFunction, createGenerateHost, createLoadedApp, createSentimentHost } from './serving-fixtures.ts';

/** Text no log line may hold unless asked to. */
const PRIVATE_TEXT = 'Zanzibar quartz 8841 is my private diary';
const SERVER_KEY = 'server-key-for-logs-0123456789abcdef';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function startLoggedApp(transport: (typeof transports)[number], environment: Record<string, string>) {
  const logs = captureLogs('info');
  const server = resolveServerSettings({ environment, functions: [] });
  const app = await createLoadedApp({ functions: [createSentimentHost('classify'), await createGenerateHost()], server, logger: logs.logger });
  return { ...logs, ...(await transport.start(app.fetch)) };
}

describe.each(transports)('request logs ($name)', (transport) => {
  let started: Awaited<ReturnType<typeof startLoggedApp>>;
  const withKey = (init: RequestInit, key = SERVER_KEY): RequestInit => ({ ...init, headers: { ...(init.headers as object), authorization: `Bearer ${key}` } });
  const send: SendRequest = (path, init) => started.send(path, init);

  beforeAll(async () => {
    started = await startLoggedApp(transport, { HONNX_API_KEYS: SERVER_KEY });
  });
  afterAll(() => started.stop());

  const linesFor = (requestId: string) => started.records().filter((record) => record.request_id === requestId);

  it('writes one JSON line per request with its id, function, status and duration, and echoes the caller’s X-Request-Id', async () => {
    const response = await send('/classify', withKey({ ...postJson({ inputs: 'I love this' }), headers: { 'content-type': 'application/json', 'x-request-id': 'client-id-42' } }));
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('client-id-42');
    const lines = linesFor('client-id-42');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', event: 'request', method: 'POST', path: '/classify', function: 'classify', status: 200 });
    expect(lines[0].duration_ms).toEqual(expect.any(Number));
    expect(new Date(lines[0].time as string).toISOString()).toBe(lines[0].time);
    for (const line of started.lines) expect(line).not.toMatch(/\n/);
  });

  it('gives a fresh id to a request without one, or with one unsafe to echo', async () => {
    const fresh = await send('/classify', withKey(postJson({ inputs: 'hi' })));
    const freshId = fresh.headers.get('x-request-id')!;
    expect(freshId).toMatch(UUID);
    expect(linesFor(freshId)).toHaveLength(1);

    const unsafe = await send('/classify', withKey({ ...postJson({ inputs: 'hi' }), headers: { 'content-type': 'application/json', 'x-request-id': `${'x'.repeat(200)}` } }));
    expect(unsafe.headers.get('x-request-id')).toMatch(UUID);
    const spaced = await send('/classify', withKey({ ...postJson({ inputs: 'hi' }), headers: { 'content-type': 'application/json', 'x-request-id': '"id" with spaces' } }));
    expect(spaced.headers.get('x-request-id')).toMatch(UUID);
  });

  it('never logs the input text, nor API keys, whatever the answer', async () => {
    await send('/classify', withKey(postJson({ inputs: PRIVATE_TEXT })));
    await send('/classify', withKey(postJson(`{"inputs": "${PRIVATE_TEXT}`)));
    await send('/classify', withKey(postJson({ inputs: `${PRIVATE_TEXT} `.repeat(100) })));
    await send('/classify', withKey(postJson({ inputs: PRIVATE_TEXT, parameters: { [PRIVATE_TEXT]: 1 } })));
    await send('/classify', withKey(postJson({ inputs: PRIVATE_TEXT }), 'a-wrong-key-that-must-not-be-logged'));
    const malformed = linesFor((await send('/classify', withKey(postJson('{"inputs": "Zanzibar')))).headers.get('x-request-id')!);
    expect(malformed[0]).toMatchObject({ status: 400, error_code: 'invalid_json' });
    const refused = linesFor((await send('/classify', postJson({ inputs: PRIVATE_TEXT }))).headers.get('x-request-id')!);
    expect(refused[0]).toMatchObject({ status: 401, error_code: 'missing_api_key' });

    const everything = started.lines.join('\n');
    expect(everything).not.toContain('Zanzibar');
    expect(everything).not.toContain(SERVER_KEY);
    expect(everything).not.toContain('a-wrong-key-that-must-not-be-logged');
  });

  it('logs a streamed answer once its stream has ended, with the time to the first event', async () => {
    const response = await send('/generate', withKey(postJson({ inputs: 'Once upon a time', stream: true, parameters: { max_new_tokens: 12, do_sample: false } })));
    const requestId = response.headers.get('x-request-id')!;
    const events = (await response.text()).split('\n').filter((line) => line.startsWith('data:'));
    expect(events.length).toBeGreaterThan(0);
    const lines = linesFor(requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ function: 'generate', status: 200, streamed: 'complete' });
    expect(lines[0].first_byte_ms).toBeLessThanOrEqual(lines[0].duration_ms as number);
    expect(JSON.stringify(lines[0])).not.toContain('Once upon');
  });

  it('keeps probes out of the info log', async () => {
    const before = started.lines.length;
    await send('/healthz');
    await send('/readyz');
    expect(started.lines.length).toBe(before);
  });
});

describe('request logs with HONNX_LOG_INPUTS', () => {
  it('puts the request body in the line only when the debug setting asks for it', async () => {
    const started = await startLoggedApp(transports[0], { HONNX_LOG_INPUTS: 'true' });
    try {
      const response = await started.send('/classify', postJson({ inputs: PRIVATE_TEXT }));
      const [line] = started.records().filter((record) => record.request_id === response.headers.get('x-request-id'));
      expect(line.body).toBe(JSON.stringify({ inputs: PRIVATE_TEXT }));
    } finally {
      await started.stop();
    }
  });
});

describe('request logs written after the answer', () => {
  it('records the line and the metrics only when `afterAnswer` runs the work, with the status and duration of the answer', async () => {
    const logs = captureLogs('info');
    const queued: (() => void)[] = [];
    const app = await createLoadedApp({ functions: [createSentimentHost('classify')], logger: logs.logger, afterAnswer: (work) => queued.push(work) });
    const response = await app.request('/classify', postJson({ inputs: 'I love this' }));
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id');
    expect(logs.records().filter((record) => record.request_id === requestId)).toHaveLength(0);
    expect(queued).toHaveLength(1);

    queued.splice(0).forEach((work) => work());
    const lines = logs.records().filter((record) => record.request_id === requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ function: 'classify', status: 200 });
    expect(lines[0].duration_ms).toBeGreaterThan(0);
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/honnx_requests_total\{[^}]*function="classify"[^}]*status="200"[^}]*\} 1/);
  });
});

describe.each(transports)('X-Request-Id on every kind of answer ($name)', (transport) => {
  for (const cors of [false, true]) {
    it(`is on JSON answers, errors, streams, pages and preflights, once, ${cors ? 'with' : 'without'} CORS`, async () => {
      const started = await startLoggedApp(transport, cors ? { HONNX_CORS_ORIGINS: '*' } : {});
      const origin: Record<string, string> = cors ? { origin: 'https://app.example' } : {};
      try {
        const answers = {
          json: await started.send('/classify', { ...postJson({ inputs: 'I love this' }), headers: { 'content-type': 'application/json', ...origin } }),
          invalid: await started.send('/classify', { ...postJson({ inputs: '' }), headers: { 'content-type': 'application/json', ...origin } }),
          notFound: await started.send('/nowhere', { headers: origin }),
          describe: await started.send('/classify', { headers: origin }),
          stream: await started.send('/generate', { ...postJson({ inputs: 'Once', stream: true, parameters: { max_new_tokens: 2 } }), headers: { 'content-type': 'application/json', ...origin } }),
          metrics: await started.send('/metrics', { headers: origin }),
          ready: await started.send('/readyz', { headers: origin }),
          ...(cors ? { preflight: await started.send('/classify', { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST' } }) } : {}),
        };
        for (const [kind, response] of Object.entries(answers)) {
          await response.text();
          const id = response.headers.get('x-request-id');
          expect(id, kind).toMatch(UUID);
          if (cors) expect(response.headers.get('access-control-allow-origin'), kind).toBe('*');
        }
        expect(answers.json.headers.get('content-type')).toBe('application/json');
        expect(answers.stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      } finally {
        await started.stop();
      }
    });
  }
});

describe.each(transports)('a stream that fails midway ($name)', (transport) => {
  it('ends with an error event, logs the request at error level with its code, and reports the error on stderr', async () => {
    const logs = captureLogs('info');
    const app = await createLoadedApp({ functions: [createControlledFunction()], logger: logs.logger });
    const started = await transport.start(app.fetch);
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const response = await started.send('/controlled', postJson({ inputs: 'fail', stream: true }));
      expect(response.status).toBe(200);
      const events = (await response.text()).split('\n\n').filter(Boolean);
      expect(events.at(-1)).toMatch(/^event: error\ndata: \{"error":\{"code":"internal_error"/);
      const requestId = response.headers.get('x-request-id');
      await vi.waitFor(() =>
        expect(logs.records().filter((record) => record.request_id === requestId)).toMatchObject([
          { level: 'error', status: 200, error_code: 'internal_error', streamed: 'complete' },
        ]),
      );
      expect(stderr.mock.calls.map((call) => String(call[0]))).toContain('function controlled:');
      expect(stderr.mock.calls.map((call) => String(call[1]))).toContain('Error: the session failed mid-stream');
    } finally {
      stderr.mockRestore();
      await started.stop();
    }
  });
});
