import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interfacePages } from '../../src/http/playground/interface-pages.ts';
import { resolveServerSettings } from '../../src/http/settings/server-settings.ts';
import { postJson, readErrorBody, sendThrough, type SendRequest } from '../support/requests.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { transports } from '../support/transports.ts';
import { captureLogs, createControlledFunction, createLoadedApp, createSentimentHost } from '../observability/serving-fixtures.ts';

/** Issue 16, defect 8: what the server tells someone who should not know it. */
const KEY = 'disclosure-test-key-0123456789abcdef';

describe.each(transports)('what a caller without a key learns ($name)', (transport) => {
  let send: SendRequest;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    const functions = [createSentimentHost('classify')];
    const server = resolveServerSettings({ environment: { HONNX_API_KEYS: KEY }, functions: functions.map(({ host }) => ({ name: host.name, auth: host.definition.auth })) });
    ({ send, stop } = await transport.start((await createLoadedApp({ functions, server, pages: interfacePages, logger: captureLogs().logger })).fetch));
  });
  afterAll(() => stop());

  it('a probe answers only GET: POST /healthz and /readyz are 405 and name no function', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const response = await send(path, postJson({ inputs: 'x' }));
      expect(response.status, path).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
      expect(JSON.stringify(await readErrorBody(response))).not.toContain('classify');
    }
    expect((await send('/healthz')).status).toBe(200);
  });

  it('an unknown path without a key is 401, naming no function', async () => {
    const response = await send('/nothing-here', postJson({ inputs: 'x' }));
    expect(response.status).toBe(401);
    expect(JSON.stringify(await readErrorBody(response))).not.toContain('classify');
  });
});

describe('GET /<function> names the model, not where it lies on disk', () => {
  it('has no filesystem path in its answer', async () => {
    const functions = [createSentimentHost('classify')];
    const send = sendThrough((await createLoadedApp({ functions, logger: captureLogs().logger })).fetch);
    const text = await (await send('/classify')).text();
    const info = JSON.parse(text) as { model: Record<string, unknown> };
    expect(info.model.name).toBe('sentiment-sst2-mini');
    expect(text).not.toContain(mirrorFolder);
    expect(text).not.toMatch(/"\/[a-z]+\//);
  });
});

describe('a stream the client cancelled', () => {
  it('is counted 499 in /metrics, as its log line says', async () => {
    const controlled = createControlledFunction();
    const logs = captureLogs('info');
    const send = sendThrough((await createLoadedApp({ functions: [controlled], logger: logs.logger })).fetch);
    const response = await send('/controlled', postJson({ inputs: 'x', stream: true }));
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    controlled.release();
    const line = logs.records().find((record) => record.message === 'request' || record.path === '/controlled');
    expect(line).toMatchObject({ path: '/controlled', status: 499, streamed: 'cancelled' });
    const metrics = await (await send('/metrics')).text();
    expect(metrics).toContain('honnx_requests_total{function="controlled",status="499"} 1');
    expect(metrics).not.toContain('honnx_requests_total{function="controlled",status="200"}');
  });
});

describe('the playground and the API reference pages', () => {
  it('forbid framing, sniffing and any script or style but their own', async () => {
    const send = sendThrough((await createLoadedApp({ functions: [], pages: interfacePages, logger: captureLogs().logger })).fetch);
    for (const path of ['/', '/docs']) {
      const response = await send(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).not.toContain('unsafe-inline');
      // Each inline script is allowed by its own hash, so the page still runs.
      const html = await response.text();
      const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const script of scripts) {
        const digest = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(script))).toString('base64');
        expect(policy).toContain(`'sha256-${digest}'`);
      }
    }
    expect((await send('/openapi.json')).headers.get('x-content-type-options')).toBe('nosniff');
  });
});
