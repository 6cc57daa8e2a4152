import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyEndpoint } from '../../src/endpoints/classify-endpoint.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { resolveServerSettings, ServerSettingsError } from '../../src/http/settings/server-settings.ts';
import { readNodeServerSettings } from '../../src/runtime/node/server-settings.ts';

const resolve = (environment: Record<string, string>, config?: unknown, functions: { name: string; auth?: any }[] = []) =>
  resolveServerSettings({ environment, config, functions });

describe('server settings', () => {
  it('are open, without CORS, logging at info without bodies, by default', () => {
    const settings = resolve({});
    expect(settings.access.server).toBeUndefined();
    expect(settings.cors).toBeUndefined();
    expect(settings.logging).toEqual({ level: 'info', inputs: false });
    expect(settings.shutdownTimeoutMs).toBe(25_000);
  });

  it('take the environment over honnx.config.json', () => {
    const config = { corsOrigins: ['https://a.example'], logLevel: 'warn', logInputs: true, shutdownTimeoutSeconds: 5 };
    expect(resolve({}, config)).toMatchObject({ cors: { origins: ['https://a.example'] }, logging: { level: 'warn', inputs: true }, shutdownTimeoutMs: 5000 });
    const overridden = resolve({ HONNX_CORS_ORIGINS: 'https://b.example, http://localhost:5173', HONNX_LOG_LEVEL: 'debug', HONNX_LOG_INPUTS: 'false', HONNX_SHUTDOWN_TIMEOUT: '0.5' }, config);
    expect(overridden).toMatchObject({ cors: { origins: ['https://b.example', 'http://localhost:5173'] }, logging: { level: 'debug', inputs: false }, shutdownTimeoutMs: 500 });
    expect(resolve({ HONNX_CORS_ORIGINS: '*' }).cors).toEqual({ origins: '*' });
  });

  it('refuse to start rather than run open or misread a setting', () => {
    const refusals: [Record<string, string>, unknown, { name: string; auth?: any }[], RegExp][] = [
      [{}, undefined, [{ name: 'reviews', auth: { keysEnv: 'REVIEWS_API_KEYS' } }], /function reviews reads its API keys from REVIEWS_API_KEYS, which is not set/],
      [{}, undefined, [{ name: 'reviews', auth: {} }], /names no key source/],
      [{ HONNX_API_KEYS: ' , ,' }, undefined, [], /HONNX_API_KEYS is set but holds no key/],
      [{ HONNX_API_KEYS_FILE: '/keys.txt' }, undefined, [], /this runtime has no files/],
      [{ HONNX_CORS_ORIGINS: 'https://app.example.com/' }, undefined, [], /not an origin/],
      [{ HONNX_LOG_LEVEL: 'loud' }, undefined, [], /HONNX_LOG_LEVEL must be one of/],
      [{ HONNX_LOG_INPUTS: 'maybe' }, undefined, [], /HONNX_LOG_INPUTS must be true or false/],
      [{ HONNX_SHUTDOWN_TIMEOUT: 'soon' }, undefined, [], /HONNX_SHUTDOWN_TIMEOUT/],
      [{}, { apiKeys: ['inline'] }, [], /unknown setting "apiKeys"/],
      [{}, { corsOrigins: 'https://a.example' }, [], /server.corsOrigins" has the wrong type/],
    ];
    for (const [environment, config, functions, message] of refusals) {
      expect(() => resolve(environment, config, functions)).toThrow(ServerSettingsError);
      expect(() => resolve(environment, config, functions)).toThrow(message);
    }
  });

  it('read key files on Node relative to the project, for the server and for a function', async () => {
    const project = mkdtempSync(join(tmpdir(), 'honnx-keys-'));
    writeFileSync(join(project, 'server.keys'), '# ops team\nfile-key-0123456789\n');
    writeFileSync(join(project, 'reviews.keys'), 'reviews-file-key-0123456789\n');
    writeFileSync(join(project, 'empty.keys'), '# nothing yet\n');
    const reviews = defineFunction({ task: classifyEndpoint, model: 'sentiment-sst2-mini', auth: { keysFile: 'reviews.keys' } });
    const settings = readNodeServerSettings(project, [{ name: 'reviews', fn: reviews }], { apiKeysFile: 'server.keys' }, { HONNX_API_KEYS: 'env-key-0123456789' });
    expect(await settings.access.server!.matches('file-key-0123456789')).toBe(true);
    expect(await settings.access.server!.matches('env-key-0123456789')).toBe(true);
    const own = settings.access.functions.get('reviews');
    expect(own !== 'open' && (await own!.matches('reviews-file-key-0123456789'))).toBe(true);

    expect(() => readNodeServerSettings(project, [], undefined, { HONNX_API_KEYS_FILE: 'missing.keys' })).toThrow(/cannot read its API key file missing.keys/);
    expect(() => readNodeServerSettings(project, [], undefined, { HONNX_API_KEYS_FILE: 'empty.keys' })).toThrow(/holds no key/);
  });
});
