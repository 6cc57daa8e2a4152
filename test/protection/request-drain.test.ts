import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRequestDrain, type RequestDrain } from '../../src/http/middleware/request-drain.ts';
import { postJson, readErrorBody, type SendRequest } from '../support/requests.ts';
import { transports } from '../support/transports.ts';
import { captureLogs, createControlledFunction, createLoadedApp } from '../observability/serving-fixtures.ts';

describe.each(transports)('draining for a graceful shutdown ($name)', (transport) => {
  let started: { send: SendRequest; stop(): Promise<void> } | undefined;
  afterEach(() => started?.stop());

  async function start() {
    const controlled = createControlledFunction();
    const drain = createRequestDrain();
    const logs = captureLogs();
    const app = await createLoadedApp({ functions: [controlled], drain, logger: logs.logger });
    started = await transport.start(app.fetch);
    return { ...controlled, drain, logs, send: started.send };
  }

  const inFlight = (drain: RequestDrain, count: number) => vi.waitFor(() => expect(drain.inFlight()).toBe(count));

  it('finishes what it accepted, closes each connection after its answer, and leaves the load balancer', async () => {
    const { drain, send, release } = await start();
    const pending = send('/controlled', postJson({ inputs: 'wait' }));
    await inFlight(drain, 1);
    drain.begin(60_000);
    const ready = await send('/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { status: string }).status).toBe('draining');
    expect((await send('/healthz')).status).toBe(200);

    const settled = drain.settled();
    release();
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual([{ echo: 'wait' }]);
    await settled;
    expect(drain.inFlight()).toBe(0);
    // A request that arrives on a kept-alive connection during the drain is still answered, then its connection closes.
    const late = await send('/controlled', postJson({ inputs: 'late' }));
    expect(late.status).toBe(200);
    if (transport.name === 'fetch handler') expect(late.headers.get('connection')).toBe('close');
  });

  it('answers a request still running at the deadline with 503, and any request after it', async () => {
    const { drain, send } = await start();
    const hanging = send('/controlled', postJson({ inputs: 'wait' }));
    await inFlight(drain, 1);
    drain.begin(1);
    const answer = await hanging;
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect((await readErrorBody(answer)).code).toBe('shutting_down');
    await drain.settled();

    const afterDeadline = await send('/controlled', postJson({ inputs: 'new' }));
    expect(afterDeadline.status).toBe(503);
  });

  it('ends a stream still running at the deadline with an error event, as a whole answer, and logs it so', async () => {
    const { drain, logs, send } = await start();
    const streamed = await send('/controlled', postJson({ inputs: 'go', stream: true }));
    expect(streamed.status).toBe(200);
    await inFlight(drain, 1);
    drain.begin(1);
    const events = (await streamed.text()).split('\n\n').filter(Boolean);
    expect(events[0]).toBe(`data: ${JSON.stringify({ token: 'first' })}`);
    expect(events.at(-1)).toMatch(/^event: error\ndata: \{"error":\{"code":"shutting_down"/);
    await drain.settled();
    const requestId = streamed.headers.get('x-request-id');
    await vi.waitFor(() => expect(logs.records().filter((record) => record.request_id === requestId)).toMatchObject([{ status: 200, streamed: 'deadline' }]));
  });
});

describe('the shutdown deadline', () => {
  it('reaches the requests still watching it, not those that ended, and holds nothing for them', async () => {
    const drain = createRequestDrain();
    const ended = drain.watchDeadline();
    const running = drain.watchDeadline();
    const reached: string[] = [];
    void ended.reached.then(() => reached.push('ended'));
    void running.reached.then(() => reached.push('running'));
    ended.release();
    drain.begin(1);
    await vi.waitFor(() => expect(drain.expired).toBe(true));
    await running.reached;
    // Both watches would be reached by the same deadline: one turn of the event loop runs every reaction it set off.
    await new Promise((resolve) => setImmediate(resolve));
    expect(reached).toEqual(['running']);
    // Once expired, a new watch is reached at once.
    await drain.watchDeadline().reached;
  });
});
