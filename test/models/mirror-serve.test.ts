import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMirrorServer, type RunningMirror } from '../../src/models/mirror/mirror-server.ts';
import { mirrorFolder } from '../support/shared-models.ts';

const MODEL = 'sentiment-sst2-mini';
const fileBytes = (path: string) => readFileSync(join(mirrorFolder, MODEL, path));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** git's blob id: sha1 of "blob <size>\0" + content, computed here independently of honnx. */
const gitBlobId = (bytes: Uint8Array) => createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');

let mirror: RunningMirror;

beforeAll(async () => {
  mirror = await startMirrorServer({ folder: mirrorFolder, port: 0 });
});
afterAll(() => mirror.close());

interface Sibling {
  rfilename: string;
  size: number;
  blobId: string;
  lfs?: { sha256: string; size: number };
}

describe('honnx mirror serve speaks the hub protocol', () => {
  it('binds to loopback by default', () => {
    expect(mirror.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('lists a repository with sizes, git blob ids, and LFS sha256 for graphs', async () => {
    const response = await fetch(`${mirror.url}/api/models/${MODEL}/revision/main?blobs=true`);
    expect(response.status).toBe(200);
    const info = (await response.json()) as { id: string; sha: string; siblings: Sibling[] };
    expect(info.id).toBe(MODEL);
    expect(info.sha).toMatch(/^[0-9a-f]{40}$/);
    const graph = info.siblings.find((sibling) => sibling.rfilename === 'onnx/model.onnx')!;
    expect(graph.lfs).toEqual({ sha256: sha256(fileBytes('onnx/model.onnx')), size: 10_455_934, pointerSize: 134 });
    const config = info.siblings.find((sibling) => sibling.rfilename === 'config.json')!;
    expect(config.lfs).toBeUndefined();
    expect(config.size).toBe(fileBytes('config.json').byteLength);
    expect(config.blobId).toBe(gitBlobId(fileBytes('config.json')));
    // The listing's sha is a revision too.
    expect((await fetch(`${mirror.url}/api/models/${MODEL}/revision/${info.sha}`)).status).toBe(200);
  });

  it('lists the file tree, one level or recursively', async () => {
    const top = (await (await fetch(`${mirror.url}/api/models/${MODEL}/tree/main`)).json()) as { type: string; path: string }[];
    expect(top).toContainEqual(expect.objectContaining({ type: 'directory', path: 'onnx' }));
    expect(top.some((entry) => entry.path === 'onnx/model.onnx')).toBe(false);
    const all = (await (await fetch(`${mirror.url}/api/models/${MODEL}/tree/main?recursive=true`)).json()) as { type: string; path: string }[];
    expect(all).toContainEqual(expect.objectContaining({ type: 'file', path: 'onnx/model.onnx' }));
  });

  it('serves files with ETag, X-Repo-Commit and byte ranges', async () => {
    const whole = await fetch(`${mirror.url}/${MODEL}/resolve/main/onnx/model.onnx`, { method: 'HEAD' });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-length')).toBe('10455934');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('etag')).toBe(`"${sha256(fileBytes('onnx/model.onnx'))}"`);
    expect(whole.headers.get('x-repo-commit')).toMatch(/^[0-9a-f]{40}$/);

    const tail = await fetch(`${mirror.url}/${MODEL}/resolve/main/onnx/model.onnx`, { headers: { range: 'bytes=10455900-' } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe('bytes 10455900-10455933/10455934');
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(fileBytes('onnx/model.onnx').subarray(10_455_900));

    const beyond = await fetch(`${mirror.url}/${MODEL}/resolve/main/onnx/model.onnx`, { headers: { range: 'bytes=10455934-' } });
    expect(beyond.status).toBe(416);
  });

  it('answers unknown repositories, revisions and files with the hub error codes', async () => {
    const repository = await fetch(`${mirror.url}/api/models/nobody/nothing/revision/main`);
    expect([repository.status, repository.headers.get('x-error-code')]).toEqual([404, 'RepoNotFound']);
    const revision = await fetch(`${mirror.url}/api/models/${MODEL}/revision/v9`);
    expect([revision.status, revision.headers.get('x-error-code')]).toEqual([404, 'RevisionNotFound']);
    const file = await fetch(`${mirror.url}/${MODEL}/resolve/main/onnx/model_q4.onnx`);
    expect([file.status, file.headers.get('x-error-code')]).toEqual([404, 'EntryNotFound']);
    // Not a model folder (no config.json), and no way out of the mirror folder.
    expect((await fetch(`${mirror.url}/api/models/datasets`)).status).toBe(404);
    // A path that climbs out is malformed (400) before any repository is looked up.
    expect((await fetch(`${mirror.url}/..%2F..%2Fetc/resolve/main/passwd`)).status).toBe(400);
  });

  it('requires the bearer token when started with one', async () => {
    const guarded = await startMirrorServer({ folder: mirrorFolder, port: 0, token: 'fleet-secret' });
    try {
      expect((await fetch(`${guarded.url}/api/models/${MODEL}`)).status).toBe(401);
      expect((await fetch(`${guarded.url}/api/models/${MODEL}`, { headers: { authorization: 'Bearer fleet-secret' } })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });

  it('serves a pipeline to an independent hub client: transformers.js, offline, through the mirror', async () => {
    const { env, pipeline } = await import('@huggingface/transformers');
    const cacheDir = await mkdtemp(join(tmpdir(), 'honnx-transformers-'));
    const saved = { allowLocalModels: env.allowLocalModels, remoteHost: env.remoteHost, cacheDir: env.cacheDir, useFSCache: env.useFSCache };
    try {
      Object.assign(env, { allowLocalModels: false, allowRemoteModels: true, remoteHost: `${mirror.url}/`, cacheDir, useFSCache: true });
      const classify = await pipeline('text-classification', MODEL, { dtype: 'fp32' });
      const [result] = (await classify('I love this')) as { label: string; score: number }[];
      // sanity.json of the model: "I love this" → POSITIVE 0.9942.
      expect(result.label).toBe('POSITIVE');
      expect(result.score).toBeCloseTo(0.9942, 3);
      await classify.dispose();
    } finally {
      Object.assign(env, saved);
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
