import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMirrorServer, type RunningMirror } from '../../src/models/mirror/mirror-server.ts';
import { mirrorFolder } from '../support/shared-models.ts';

/** Issue 16, defects 7 and 8: hostile paths and tokens against `honnx mirror serve`. */
const MODEL = 'sentiment-sst2-mini';
const TOKEN = 'mirror-token-0123456789';

/** A raw GET, so that the path goes out byte for byte as written (fetch would normalise it). */
function get(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const outgoing = request({ host: target.hostname, port: target.port, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: Buffer.concat(chunks).toString('utf8'), headers: response.headers }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('mirror serve: malformed paths are refused 400, never 500', () => {
  let mirror: RunningMirror;
  beforeAll(async () => {
    mirror = await startMirrorServer({ folder: mirrorFolder, port: 0, token: TOKEN });
  });
  afterAll(() => mirror.close());
  const authorized = { authorization: `Bearer ${TOKEN}` };

  it.each([
    `/${MODEL}/resolve/main/%ff`,
    `/${MODEL}/resolve/main/%`,
    `/${MODEL}/resolve/main/config%00.json`,
    `/${MODEL}/resolve/main/a%0d%0aSet-Cookie:%20x=1`,
    `/api/models/${MODEL}%00/revision/main`,
    `/api/models/%e0%80%80`,
    `/${MODEL}/resolve/main/..%2f..%2fetc/passwd`,
    `/${MODEL}/resolve/main/onnx%5c..%5c..%5cconfig.json`,
  ])('%s', async (path) => {
    const response = await get(mirror.url, path, authorized);
    expect(response.status).toBe(400);
    expect(response.headers['x-error-code']).toBe('BadRequest');
    expect(String(response.headers['x-error-message'])).toMatch(/^[\x20-\x7e]*$/);
    expect(JSON.parse(response.body).error).toMatch(/path/);
  });

  it('a path the URL parser folds (%2e%2e) names no file of the repository: 404', async () => {
    expect((await get(mirror.url, `/${MODEL}/resolve/main/%2e%2e/%2e%2e/etc/passwd`, authorized)).status).toBe(404);
  });

  it('still serves a well-formed path, and refuses a token that is a prefix, an extension or empty', async () => {
    expect((await get(mirror.url, `/${MODEL}/resolve/main/config.json`, authorized)).status).toBe(200);
    for (const token of [TOKEN.slice(0, -1), `${TOKEN}x`, '', TOKEN.toUpperCase()]) {
      expect((await get(mirror.url, `/${MODEL}/resolve/main/config.json`, { authorization: `Bearer ${token}` })).status, token).toBe(401);
    }
    expect((await get(mirror.url, `/${MODEL}/resolve/main/config.json`)).status).toBe(401);
  });
});
