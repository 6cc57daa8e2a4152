import { describe, expect, it } from 'vitest';
import { resolveServerSettings } from '../../src/http/settings/server-settings.ts';
import { postJson } from '../support/requests.ts';
import { transports } from '../support/transports.ts';
import { captureLogs, createLoadedApp, createSentimentHost } from '../observability/serving-fixtures.ts';

const KEY = 'cors-test-key-0123456789abcdef';
const ALLOWED = 'https://app.example.com';

async function startApp(transport: (typeof transports)[number], environment: Record<string, string>) {
  const server = resolveServerSettings({ environment, functions: [] });
  const app = await createLoadedApp({ functions: [createSentimentHost('classify')], server, logger: captureLogs().logger });
  return transport.start(app.fetch);
}

const preflight = (origin: string): RequestInit => ({
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
});

describe.each(transports)('CORS ($name)', (transport) => {
  it('answers preflights from an allowed origin without a key, and lets the browser read answers and errors', async () => {
    const { send, stop } = await startApp(transport, { HONNX_CORS_ORIGINS: `${ALLOWED}, http://localhost:5173`, HONNX_API_KEYS: KEY });
    try {
      const allowed = await send('/classify', preflight(ALLOWED));
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(allowed.headers.get('access-control-allow-methods')).toBe('GET,POST,OPTIONS');
      expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(expect.arrayContaining(['authorization', 'content-type']));
      expect(allowed.headers.get('vary')).toMatch(/Origin/);

      const answer = await send('/classify', { ...postJson({ inputs: 'I love this' }), headers: { 'content-type': 'application/json', origin: ALLOWED, authorization: `Bearer ${KEY}` } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(answer.headers.get('access-control-expose-headers')?.split(',')).toEqual(expect.arrayContaining(['X-Request-Id', 'Retry-After']));

      const unauthorized = await send('/classify', { ...postJson({ inputs: 'hi' }), headers: { 'content-type': 'application/json', origin: ALLOWED } });
      expect(unauthorized.status).toBe(401);
      expect(unauthorized.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    } finally {
      await stop();
    }
  });

  it('gives another origin no CORS permission', async () => {
    const { send, stop } = await startApp(transport, { HONNX_CORS_ORIGINS: ALLOWED });
    try {
      const refused = await send('/classify', preflight('https://evil.example'));
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      const answer = await send('/classify', { ...postJson({ inputs: 'hi' }), headers: { 'content-type': 'application/json', origin: 'https://evil.example' } });
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await stop();
    }
  });

  it('allows every origin with "*", and sends no CORS headers when unset', async () => {
    const any = await startApp(transport, { HONNX_CORS_ORIGINS: '*' });
    try {
      expect((await any.send('/classify', preflight('https://anywhere.example'))).headers.get('access-control-allow-origin')).toBe('*');
    } finally {
      await any.stop();
    }
    const none = await startApp(transport, {});
    try {
      const answer = await none.send('/classify', { ...postJson({ inputs: 'hi' }), headers: { 'content-type': 'application/json', origin: ALLOWED } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await none.stop();
    }
  });
});
