import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServerSettings } from '../../src/http/settings/server-settings.ts';
import { postJson, readErrorBody, type SendRequest } from '../support/requests.ts';
import { transports } from '../support/transports.ts';
import { captureLogs, createLoadedApp, createSentimentHost } from '../observability/serving-fixtures.ts';

const KEY = 'trailing-slash-key-0123456789abcdef';

describe.each(transports)('a trailing slash names the same route ($name)', (transport) => {
  let started: { send: SendRequest; stop(): Promise<void> };
  const logs = captureLogs();

  beforeAll(async () => {
    const server = resolveServerSettings({ environment: { HONNX_API_KEYS: KEY }, functions: [] });
    const app = await createLoadedApp({ functions: [createSentimentHost('classify')], server, logger: logs.logger });
    started = await transport.start(app.fetch);
  });
  afterAll(() => started.stop());

  const authorized = (init: RequestInit): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${KEY}` } });

  it('POST and GET /classify/ answer as /classify does, counted and guarded as that function', async () => {
    const plain = await started.send('/classify', authorized(postJson({ inputs: 'I love this' })));
    const slashed = await started.send('/classify/', authorized(postJson({ inputs: 'I love this' })));
    expect(slashed.status).toBe(200);
    expect(await slashed.json()).toEqual(await plain.json());
    expect((await started.send('/classify/', authorized({}))).status).toBe(200);
    const withoutKey = await started.send('/classify/', postJson({ inputs: 'I love this' }));
    expect(withoutKey.status).toBe(401);
    const lines = logs.records().filter((record) => record.path === '/classify/');
    expect(lines.every((record) => record.function === 'classify')).toBe(true);
  });

  it('probes stay open with a slash; another path is still a 404', async () => {
    expect((await started.send('/healthz/')).status).toBe(200);
    const unknown = await started.send('/classifyx/', authorized(postJson({ inputs: 'hi' })));
    expect(unknown.status).toBe(404);
    expect((await readErrorBody(unknown)).code).toBe('not_found');
  });
});
