import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHubClient } from '../../src/models/hub/hub-client.ts';
import { HubError } from '../../src/models/hub/hub-errors.ts';
import { readLockFile } from '../../src/models/lock/lock-file.ts';
import { PARTIAL_FOLDER, pullModel } from '../../src/models/pull-model.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { isFileRequest, startTestHub, type TestHub } from '../models/hub-test-server.ts';

/**
 * Issue 16, defects 2 and 9: `honnx models pull` against a hub that lies. Every value a hub sends that becomes a
 * path (the commit id, each file name) is checked before anything is written; nothing lands outside the cache.
 */
const MODEL = 'tinystories-260k';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let hub: TestHub;
let root: string;
let cache: string;

beforeAll(async () => {
  hub = await startTestHub({ folder: mirrorFolder });
});
afterAll(() => hub.close());
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'honnx-hostile-hub-'));
  cache = join(root, 'cache');
  hub.intercept = undefined;
  hub.requests.length = 0;
});
afterEach(() => rm(root, { recursive: true, force: true }));

const client = () => createHubClient({ endpoint: hub.url, timeoutMs: 5000 });

/** The real listing of the model, with `change` applied: what a hostile hub would send instead. */
async function serveListing(change: (listing: { sha: string; siblings: { rfilename: string }[] }) => void): Promise<void> {
  const real = (await (await fetch(`${hub.url}/api/models/${MODEL}/revision/main?blobs=true`)).json()) as { sha: string; siblings: { rfilename: string }[] };
  change(real);
  hub.intercept = (request, response) => {
    if (!request.url?.startsWith('/api/models/')) return false;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(real));
    return true;
  };
}

/** Every file and folder under `folder`, relative to it. */
const listAll = async (folder: string) => (await readdir(folder, { recursive: true }).catch(() => [] as string[])).sort();

describe('a hostile hub against models pull', () => {
  it.each([
    'x/../../../../../outside',
    '../../outside',
    '/tmp/outside',
    'main',
    '0123456789abcdef0123456789abcdef0123456',
    '0123456789abcdef0123456789abcdef01234567/..',
    '0123456789ABCDEF0123456789ABCDEF01234567\u0000',
  ])('a commit id "%s" is refused before anything is written', async (sha) => {
    await serveListing((listing) => (listing.sha = sha));
    const error = await pullModel({ repo: MODEL, cacheFolder: cache, client: client() }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(HubError);
    expect((error as Error).message).toContain('commit');
    expect(await listAll(root)).toEqual([]);
    expect(hub.requests.some((request) => request.path.includes('/resolve/'))).toBeFalsy();
  });

  it.each([
    '../outside.json',
    'onnx/../../outside.json',
    '/etc/outside.json',
    'onnx\\..\\..\\outside.json',
    'C:/outside.json',
    'config.json\u0000.txt',
    'onnx//model.onnx',
    './config.json',
    '',
  ])('a file name "%s" in the listing is refused before anything is written', async (name) => {
    await serveListing((listing) => listing.siblings.push({ rfilename: name }));
    const error = await pullModel({ repo: MODEL, cacheFolder: cache, client: client() }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(HubError);
    expect((error as Error).message).toContain('file name');
    expect(await listAll(root)).toEqual([]);
  });

  it('a damaged part file kept from an earlier pull is said to be the local copy, and fetched again whole', async () => {
    const first = await pullModel({ repo: MODEL, cacheFolder: join(root, 'first'), client: client() });
    const commit = first.entry.source.type === 'hub' ? first.entry.source.commit : '';
    const graph = readFileSync(join(mirrorFolder, MODEL, 'onnx/model.onnx'));
    // Half the graph left from a pull that was cut, with one byte changed on the disk since.
    const part = Buffer.from(graph.subarray(0, graph.byteLength >> 1));
    part[100] ^= 0xff;
    const partPath = join(cache, PARTIAL_FOLDER, `${MODEL}@${commit}`, 'onnx/model.onnx.part');
    await mkdir(join(partPath, '..'), { recursive: true });
    await writeFile(partPath, part);
    const result = await pullModel({ repo: MODEL, cacheFolder: cache, client: client() });
    expect(sha256(readFileSync(join(result.folder, 'onnx/model.onnx')))).toBe(sha256(graph));
    expect(result.notes.join('\n')).toMatch(/onnx\/model\.onnx: the part kept locally from an earlier pull was corrupt/);
    expect(result.notes.join('\n')).not.toContain('hub lists');
  });

  it('a hub whose copy is corrupt is still blamed, once a whole fresh copy fails the check too', async () => {
    hub.intercept = (request, response) => {
      if (!isFileRequest(request, 'tokenizer.json')) return false;
      response.writeHead(200, { 'content-length': 5 });
      response.end('{"x":');
      return true;
    };
    const error = await pullModel({ repo: MODEL, cacheFolder: cache, client: client() }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(HubError);
    expect((error as Error).message).toContain(`tokenizer.json from ${hub.url} is corrupt`);
  });

  it('--revision main over a model locked at another commit refuses unless told to replace it, and says so', async () => {
    const lockPath = join(root, 'project', 'models', 'honnx.lock.json');
    const pinned = await pullModel({ repo: MODEL, cacheFolder: cache, lockPath, client: client() });
    const pinnedCommit = pinned.entry.source.type === 'hub' ? pinned.entry.source.commit : '';
    const lockText = readFileSync(lockPath, 'utf8');
    // Pin it to an older commit, as a lock written weeks ago would be.
    const olderCommit = 'a'.repeat(40);
    await writeFile(lockPath, lockText.replace(pinnedCommit, olderCommit));
    const refused = await pullModel({ repo: MODEL, cacheFolder: cache, lockPath, client: client(), revision: 'main' }).catch((thrown: unknown) => thrown);
    expect(refused).toBeInstanceOf(HubError);
    expect((refused as Error).message).toContain(olderCommit);
    expect((refused as Error).message).toContain(pinnedCommit);
    expect((refused as Error).message).toContain('--update-lock');
    expect(readFileSync(lockPath, 'utf8')).toContain(olderCommit);

    const replaced = await pullModel({ repo: MODEL, cacheFolder: cache, lockPath, client: client(), revision: 'main', replaceLockedCommit: true });
    expect(replaced.notes.join('\n')).toContain(`replaced ${olderCommit}`);
    const entry = (await readLockFile(lockPath)).models.find((model) => model.name === MODEL)!;
    expect(entry.source).toMatchObject({ type: 'hub', revision: 'main', commit: pinnedCommit });
    expect(existsSync(join(cache, MODEL, 'config.json'))).toBe(true);
  });
});
