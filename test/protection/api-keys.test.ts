import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeySet, parseApiKeys, readBearerToken } from '../../src/http/auth/api-keys.ts';
import { classifyEndpoint } from '../../src/endpoints/classify-endpoint.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { interfacePages } from '../../src/http/playground/interface-pages.ts';
import { describeServerSettings, resolveServerSettings } from '../../src/http/settings/server-settings.ts';
import { postJson, readErrorBody, type SendRequest } from '../support/requests.ts';
import { transports } from '../support/transports.ts';
import { captureLogs, createLoadedApp, createSentimentHost } from '../observability/serving-fixtures.ts';

const SERVER_KEYS = ['server-key-one-0123456789abcdef', 'server-key-two-fedcba9876543210'];
const REVIEWS_KEY = 'reviews-only-key-00112233445566778899';

describe('API keys', () => {
  it('reads keys separated by newlines, commas or spaces, skipping blank and # lines', () => {
    expect(parseApiKeys('# for the web app\nkey-a\n\n  key-b , key-c\n# old: key-d\n')).toEqual(['key-a', 'key-b', 'key-c']);
  });

  it('takes the key of a Bearer authorization header only', () => {
    expect(readBearerToken('Bearer abc.DEF-123')).toBe('abc.DEF-123');
    expect(readBearerToken('bearer abc')).toBe('abc');
    expect(readBearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(readBearerToken('Bearer')).toBeUndefined();
    expect(readBearerToken('Bearer two words')).toBeUndefined();
    expect(readBearerToken(undefined)).toBeUndefined();
  });

  it('matches exactly one of its keys: not a prefix, an extension or a case variant', async () => {
    const keys = createApiKeySet(SERVER_KEYS);
    expect(await keys.matches(SERVER_KEYS[0])).toBe(true);
    expect(await keys.matches(SERVER_KEYS[1])).toBe(true);
    expect(await keys.matches(SERVER_KEYS[0].slice(0, -1))).toBe(false);
    expect(await keys.matches(`${SERVER_KEYS[0]}x`)).toBe(false);
    expect(await keys.matches(SERVER_KEYS[0].toUpperCase())).toBe(false);
    expect(await keys.matches('')).toBe(false);
  });

  it('holds no key in a form that a log or a dump could show', async () => {
    const keys = createApiKeySet(SERVER_KEYS);
    await keys.matches('warm');
    const settings = resolveServerSettings({ environment: { HONNX_API_KEYS: SERVER_KEYS.join(',') }, functions: [] });
    for (const shown of [JSON.stringify(keys), JSON.stringify(settings), JSON.stringify(describeServerSettings(settings)), String(Object.values(keys))]) {
      for (const key of SERVER_KEYS) expect(shown).not.toContain(key);
    }
  });
});

describe.each(transports)('API keys over HTTP ($name)', (transport) => {
  let send: SendRequest;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const reviews = defineFunction({ task: classifyEndpoint, model: 'sentiment-sst2-mini', auth: { keysEnv: 'REVIEWS_API_KEYS' } });
    const open = defineFunction({ task: classifyEndpoint, model: 'sentiment-sst2-mini', auth: false });
    const functions = [createSentimentHost('classify'), createSentimentHost('reviews', reviews), createSentimentHost('open', open)];
    const server = resolveServerSettings({
      environment: { HONNX_API_KEYS: SERVER_KEYS.join('\n'), REVIEWS_API_KEYS: REVIEWS_KEY },
      functions: functions.map(({ host }) => ({ name: host.name, auth: host.definition.auth })),
    });
    const app = await createLoadedApp({ functions, server, pages: interfacePages, logger: captureLogs().logger });
    ({ send, stop } = await transport.start(app.fetch));
  });
  afterAll(() => stop());

  const bearer = (key: string, init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...(init.headers as object), authorization: `Bearer ${key}` } });

  it('answers 401 with a Bearer challenge when the key is missing, and another when it is wrong', async () => {
    const missing = await send('/classify', postJson({ inputs: 'I love this' }));
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="honnx"');
    expect((await readErrorBody(missing)).code).toBe('missing_api_key');

    const wrong = await send('/classify', bearer('not-a-key', postJson({ inputs: 'I love this' })));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="honnx", error="invalid_token"');
    const error = await readErrorBody(wrong);
    expect(error.code).toBe('invalid_api_key');
    expect(error.message).not.toContain('not-a-key');

    const basic = await send('/classify', { ...postJson({ inputs: 'hi' }), headers: { 'content-type': 'application/json', authorization: 'Basic c2VydmVyOmtleQ==' } });
    expect(basic.status).toBe(401);
  });

  it('serves the request with any of the server keys', async () => {
    for (const key of SERVER_KEYS) {
      const response = await send('/classify', bearer(key, postJson({ inputs: 'I love this' })));
      expect(response.status).toBe(200);
      expect(((await response.json()) as { label: string }[][])[0][0].label).toBe('POSITIVE');
    }
    expect((await send('/classify', bearer(SERVER_KEYS[0]))).status).toBe(200);
  });

  it("lets a function's own keys replace the server's, and auth: false open a function", async () => {
    expect((await send('/reviews', bearer(REVIEWS_KEY, postJson({ inputs: 'I love this' })))).status).toBe(200);
    expect((await send('/reviews', bearer(SERVER_KEYS[0], postJson({ inputs: 'I love this' })))).status).toBe(401);
    expect((await send('/classify', bearer(REVIEWS_KEY, postJson({ inputs: 'I love this' })))).status).toBe(401);
    expect((await send('/open', postJson({ inputs: 'I love this' }))).status).toBe(200);
  });

  it('cannot be slipped past by spelling a function path another way', async () => {
    // With a server key, /reviews must still refuse: each variant is refused (401) or reaches no function (404).
    const variants = ['/reviews/', '/%72eviews', '/reviews/.', '/reviews/%2e', '/reviews?x=1', '/reviews%2F', '/Reviews', '/%2Freviews'];
    for (const path of variants) {
      for (const init of [bearer(SERVER_KEYS[0]), bearer(SERVER_KEYS[0], postJson({ inputs: 'I love this' }))]) {
        const response = await send(path, init);
        expect([401, 404], `${init.method ?? 'GET'} ${path}`).toContain(response.status);
      }
    }
  });

  it('keeps probes open, and guards /metrics and unknown paths (whose 404 would list the functions)', async () => {
    expect((await send('/healthz')).status).toBe(200);
    expect((await send('/readyz')).status).toBe(200);
    expect((await send('/metrics')).status).toBe(401);
    expect((await send('/metrics', bearer(SERVER_KEYS[1]))).status).toBe(200);
    const unknown = await send('/nope', postJson({ inputs: 'hi' }));
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).not.toContain('/classify');
    expect((await send('/nope', bearer(SERVER_KEYS[0]))).status).toBe(404);
  });

  it('leaves the API description pages open unless HONNX_PROTECT_DOCS, which needs the server key', async () => {
    for (const path of ['/openapi.json', '/docs', '/']) expect((await send(path)).status).toBe(200);
    const server = resolveServerSettings({ environment: { HONNX_API_KEYS: SERVER_KEYS[0], HONNX_PROTECT_DOCS: '1' }, functions: [] });
    const guarded = await transport.start((await createLoadedApp({ functions: [], server, pages: interfacePages, logger: captureLogs().logger })).fetch);
    try {
      for (const path of ['/openapi.json', '/docs', '/']) expect((await guarded.send(path)).status).toBe(401);
      expect((await guarded.send('/openapi.json', bearer(SERVER_KEYS[0]))).status).toBe(200);
      expect((await guarded.send('/healthz')).status).toBe(200);
    } finally {
      await guarded.stop();
    }
  });
});
