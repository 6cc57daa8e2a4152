import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHubClient } from '../../src/models/hub/hub-client.ts';
import { HubError } from '../../src/models/hub/hub-errors.ts';
import { readLockFile } from '../../src/models/lock/lock-file.ts';
import { PARTIAL_FOLDER, pullModel } from '../../src/models/pull-model.ts';
import { findModelVersion, listModelVersions } from '../../src/models/versions/model-versions.ts';
import { ModelNotFoundError, resolveModel } from '../../src/models/resolve-model.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { isFileRequest, startTestHub, type TestHub } from './hub-test-server.ts';

const MODEL = 'tinystories-260k';
const GRAPH = 'onnx/model.onnx';
const graphBytes = () => readFileSync(join(mirrorFolder, MODEL, GRAPH));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The files a generator needs, as the model's README lists them; README, sanity.json and source/ are not among them. */
const EXPECTED_FILES = ['config.json', 'generation_config.json', 'onnx/model.onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json'];

let hub: TestHub;
let cache: string;

beforeAll(async () => {
  hub = await startTestHub({ folder: mirrorFolder });
});
afterAll(() => hub.close());
beforeEach(async () => {
  cache = await mkdtemp(join(tmpdir(), 'honnx-pull-'));
  hub.requests.length = 0;
  hub.intercept = undefined;
});
afterEach(() => rm(cache, { recursive: true, force: true }));

const client = (options: { token?: string; timeoutMs?: number; endpoint?: string } = {}) =>
  createHubClient({ endpoint: options.endpoint ?? hub.url, token: options.token, timeoutMs: options.timeoutMs ?? 5000 });

/** Nothing a model could be read from: no folder in the cache, and resolution still says the model is missing. */
function expectNothingInstalled(): void {
  expect(existsSync(join(cache, MODEL))).toBe(false);
  expect(() => resolveModel(MODEL, { projectModels: join(cache, 'no-project'), cache, hubEndpoint: hub.url })).toThrow(ModelNotFoundError);
}

async function expectPullToFail(options: Parameters<typeof pullModel>[0]): Promise<HubError> {
  const error = await pullModel(options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(HubError);
  return error as HubError;
}

describe('honnx models pull against a local hub', () => {
  it('downloads exactly the files a task needs, byte for byte, and records them in the lock file', async () => {
    const lockPath = join(cache, 'project-models', 'honnx.lock.json');
    const result = await pullModel({ repo: MODEL, cacheFolder: cache, lockPath, client: client() });
    const installed = (await readdir(result.folder, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name).slice(result.folder.length + 1))
      .sort();
    expect(installed).toEqual(EXPECTED_FILES);
    for (const path of EXPECTED_FILES) expect(sha256(readFileSync(join(result.folder, path)))).toBe(sha256(readFileSync(join(mirrorFolder, MODEL, path))));
    const lock = await readLockFile(lockPath);
    const entry = lock.models.find((model) => model.name === MODEL)!;
    expect(entry.source).toMatchObject({ type: 'hub', repo: MODEL, revision: 'main' });
    expect(entry.files.find((file) => file.path === GRAPH)).toEqual({ path: GRAPH, size: graphBytes().byteLength, sha256: sha256(graphBytes()) });
    // Downloads name the commit the listing reported, so every file comes from one snapshot.
    const commit = entry.source.type === 'hub' ? entry.source.commit : '';
    expect(hub.requests.filter((request) => request.path.includes('/resolve/')).every((request) => request.path.includes(`/resolve/${commit}/`))).toBe(true);
    expect(existsSync(join(cache, PARTIAL_FOLDER, `${MODEL}@${commit}`))).toBe(false);

    // A second pull of the locked model fetches nothing.
    hub.requests.length = 0;
    const again = await pullModel({ repo: MODEL, cacheFolder: cache, lockPath, client: client() });
    expect(again.upToDate).toBe(true);
    expect(hub.requests).toHaveLength(0);
    expect(result.lockChange).toBe('added');
    expect(again.lockChange).toBe('unchanged');

    // Pulled again once the cache lost it, or at a revision naming the same commit: the lock file is not written,
    // and the pull says so instead of "locked".
    const lockText = readFileSync(lockPath, 'utf8');
    await rm(result.folder, { recursive: true, force: true });
    const refetched = await pullModel({ repo: MODEL, cacheFolder: cache, lockPath, client: client() });
    expect(refetched).toMatchObject({ upToDate: false, lockChange: 'unchanged' });
    const atRevision = await pullModel({ repo: MODEL, cacheFolder: cache, lockPath, client: client(), revision: 'main' });
    expect(atRevision.lockChange).toBe('unchanged');
    expect(readFileSync(lockPath, 'utf8')).toBe(lockText);
  });

  it('keeps a hub pull as a version too, named by its commit and revision, for a running server to activate', async () => {
    const lockPath = join(cache, 'project-models', 'honnx.lock.json');
    const result = await pullModel({ repo: MODEL, revision: 'main', cacheFolder: cache, lockPath, client: client() });
    const commit = result.entry.source.type === 'hub' ? result.entry.source.commit : '';
    expect(commit).toMatch(/^[0-9a-f]{12,}$/);
    const versions = await listModelVersions(cache, MODEL);
    expect(versions.map((version) => [version.digest, version.tag, version.entry.source])).toEqual([[commit, 'main', result.entry.source]]);
    // Found by its commit, its first 12 digits, or the revision it was pulled at; its files are the pulled ones.
    for (const selector of [commit, commit.slice(0, 12), 'main']) expect((await findModelVersion(cache, MODEL, selector))?.digest).toBe(commit);
    const kept = versions[0];
    expect(sha256(readFileSync(join(kept.folder, GRAPH)))).toBe(sha256(graphBytes()));
    // A pull with no revision that finds the locked files in place keeps (re-records) the same version.
    await rm(join(cache, '.versions'), { recursive: true });
    expect((await pullModel({ repo: MODEL, cacheFolder: cache, lockPath, client: client() })).upToDate).toBe(true);
    expect((await listModelVersions(cache, MODEL)).map((version) => version.digest)).toEqual([commit]);
  });

  it('follows a redirect to another host, and sends the token to the hub only', async () => {
    const storage = await startTestHub({ folder: mirrorFolder });
    try {
      // The hub answers downloads with a 302 to a storage host, as huggingface.co does for LFS files.
      hub.intercept = (request, response) => {
        if (!request.url?.includes('/resolve/')) return false;
        response.writeHead(302, { location: `${storage.url}${request.url}` });
        response.end();
        return true;
      };
      const result = await pullModel({ repo: MODEL, cacheFolder: cache, client: client({ token: 'hf_test_token' }) });
      expect(sha256(readFileSync(join(result.folder, GRAPH)))).toBe(sha256(graphBytes()));
      expect(hub.requests.filter((request) => request.path.includes('/resolve/'))).toHaveLength(EXPECTED_FILES.length);
      expect(storage.requests).toHaveLength(EXPECTED_FILES.length);
      expect(hub.requests.every((request) => request.authorization === 'Bearer hf_test_token')).toBe(true);
      expect(storage.requests.every((request) => request.authorization === undefined)).toBe(true);
    } finally {
      await storage.close();
    }
  });

  it('resumes with an HTTP Range request after the connection is cut mid-file', async () => {
    const bytes = graphBytes();
    let cuts = 0;
    hub.intercept = (request, response) => {
      if (!isFileRequest(request, GRAPH) || cuts > 0) return false;
      cuts++;
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.byteLength });
      response.write(bytes.subarray(0, 400_000), () => setTimeout(() => response.socket?.destroy(), 20));
      return true;
    };
    const result = await pullModel({ repo: MODEL, cacheFolder: cache, client: client() });
    const graphRequests = hub.requests.filter((request) => request.path.endsWith(GRAPH));
    expect(graphRequests).toHaveLength(2);
    expect(graphRequests[0].range).toBeUndefined();
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(graphRequests[1].range ?? '')?.[1]);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(resumedFrom).toBeLessThanOrEqual(400_000);
    expect(sha256(readFileSync(join(result.folder, GRAPH)))).toBe(sha256(bytes));
    expect(result.fetchedBytes).toBeLessThan(bytes.byteLength + 20_000);
  });

  it('keeps what arrived when a pull gives up, installs nothing, and the next pull resumes from it', async () => {
    const bytes = graphBytes();
    hub.intercept = (request, response) => {
      if (!isFileRequest(request, GRAPH)) return false;
      response.writeHead(200, { 'content-length': bytes.byteLength });
      response.write(bytes.subarray(0, 500_000), () => setTimeout(() => response.socket?.destroy(), 20));
      return true;
    };
    const error = await expectPullToFail({ repo: MODEL, cacheFolder: cache, client: client(), retries: 0 });
    expect(error.kind).toBe('network');
    expect(error.message).toContain(GRAPH);
    expect(error.message).toMatch(/bytes kept; the next pull resumes/);
    expectNothingInstalled();

    hub.intercept = undefined;
    hub.requests.length = 0;
    const result = await pullModel({ repo: MODEL, cacheFolder: cache, client: client() });
    const resumed = hub.requests.find((request) => request.path.endsWith(GRAPH));
    expect(Number(/^bytes=(\d+)-$/.exec(resumed?.range ?? '')?.[1])).toBeGreaterThan(0);
    expect(sha256(readFileSync(join(result.folder, GRAPH)))).toBe(sha256(bytes));
  });

  it('rejects a file with one corrupted byte, naming the file and the sha256 expected, and keeps nothing of it', async () => {
    const corrupted = Buffer.from(graphBytes());
    corrupted[corrupted.byteLength >> 1] ^= 0xff;
    hub.intercept = (request, response) => {
      if (!isFileRequest(request, GRAPH)) return false;
      response.writeHead(200, { 'content-length': corrupted.byteLength });
      response.end(corrupted);
      return true;
    };
    const error = await expectPullToFail({ repo: MODEL, cacheFolder: cache, client: client() });
    expect(error.kind).toBe('integrity');
    expect(error.message).toContain(`${GRAPH} from ${hub.url} is corrupt`);
    expect(error.message).toContain(`the hub lists ${sha256(graphBytes())}`);
    expect(error.message).toContain(sha256(corrupted));
    expectNothingInstalled();
    const partial = join(cache, PARTIAL_FOLDER);
    const leftovers = existsSync(partial) ? await readdir(partial, { recursive: true }) : [];
    expect(leftovers.filter((path) => String(path).endsWith('model.onnx.part'))).toEqual([]);
  });

  it('explains a missing repository and a missing file, each in its own words', async () => {
    const missingRepository = await expectPullToFail({ repo: 'no-such-org/no-such-model', cacheFolder: cache, client: client() });
    expect(missingRepository.kind).toBe('not_found');
    expect(missingRepository.message).toContain('repository no-such-org/no-such-model was not found');
    expect(missingRepository.message).toContain('(404)');

    hub.intercept = (request, response) => {
      if (!isFileRequest(request, 'tokenizer.json')) return false;
      response.writeHead(404, { 'x-error-code': 'EntryNotFound' });
      response.end('{"error":"Entry not found"}');
      return true;
    };
    const missingFile = await expectPullToFail({ repo: MODEL, cacheFolder: cache, client: client() });
    expect(missingFile.kind).toBe('not_found');
    expect(missingFile.message).toContain(`tokenizer.json of ${MODEL} was not found`);
    expect(missingFile.message).not.toBe(missingRepository.message);
    expectNothingInstalled();

    const missingVariant = await expectPullToFail({ repo: MODEL, variant: 'q4', cacheFolder: cache, client: client() });
    expect(missingVariant.message).toContain('has no ONNX graph in variant q4');
    expect(missingVariant.message).toContain('it has fp32');
  });

  it('explains a 401: no token for a private hub, and a token the hub refuses', async () => {
    const privateHub = await startTestHub({ folder: mirrorFolder, token: 'hf_right' });
    try {
      const anonymous = await expectPullToFail({ repo: MODEL, cacheFolder: cache, client: client({ endpoint: privateHub.url }) });
      expect(anonymous.kind).toBe('unauthorized');
      expect(anonymous.status).toBe(401);
      expect(anonymous.message).toContain('requires authentication');
      expect(anonymous.message).toContain('set HF_TOKEN');

      const refused = await expectPullToFail({ repo: MODEL, cacheFolder: cache, client: client({ endpoint: privateHub.url, token: 'hf_wrong' }) });
      expect(refused.kind).toBe('unauthorized');
      expect(refused.message).toContain('refused the token in HF_TOKEN');
      expect(refused.message).not.toContain('was not found');
      expectNothingInstalled();

      const allowed = await pullModel({ repo: MODEL, cacheFolder: cache, client: client({ endpoint: privateHub.url, token: 'hf_right' }) });
      expect(existsSync(join(allowed.folder, GRAPH))).toBe(true);
    } finally {
      await privateHub.close();
    }
  });

  it('gives up on a server that stops sending, with a timeout error, and installs nothing', async () => {
    const bytes = graphBytes();
    hub.intercept = (request, response) => {
      if (!isFileRequest(request, GRAPH)) return false;
      // Headers and a first chunk, then silence with the connection held open.
      response.writeHead(200, { 'content-length': bytes.byteLength });
      response.write(bytes.subarray(0, 64_000));
      return true;
    };
    const error = await expectPullToFail({ repo: MODEL, cacheFolder: cache, client: client({ timeoutMs: 300 }), retries: 1 });
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(/no data from http:\/\/127\.0\.0\.1:\d+ for 0\.3 s \(timeout\)/);
    expect(hub.requests.filter((request) => request.path.endsWith(GRAPH))).toHaveLength(2);
    expectNothingInstalled();
  });

  it('stops at once when interrupted, keeping what arrived for the next pull', async () => {
    const bytes = graphBytes();
    const interrupt = new AbortController();
    hub.intercept = (request, response) => {
      if (!isFileRequest(request, GRAPH)) return false;
      response.writeHead(200, { 'content-length': bytes.byteLength });
      response.write(bytes.subarray(0, 200_000), () => setTimeout(() => interrupt.abort(new HubError('interrupted', 'interrupted by the user')), 50));
      return true;
    };
    const interruptible = createHubClient({ endpoint: hub.url, timeoutMs: 5000, signal: interrupt.signal });
    const error = await expectPullToFail({ repo: MODEL, cacheFolder: cache, client: interruptible });
    expect(error.kind).toBe('interrupted');
    // No retry after an interruption.
    expect(hub.requests.filter((request) => request.path.endsWith(GRAPH))).toHaveLength(1);
    expectNothingInstalled();
    const parts = await readdir(join(cache, PARTIAL_FOLDER), { recursive: true });
    expect(parts.some((path) => String(path).endsWith('model.onnx.part'))).toBe(true);
  });

  it('times out a server that never answers the listing', async () => {
    hub.intercept = (request) => request.url?.startsWith('/api/') === true;
    const error = await expectPullToFail({ repo: MODEL, cacheFolder: cache, client: client({ timeoutMs: 300 }) });
    expect(error.kind).toBe('timeout');
    expectNothingInstalled();
  });
});
