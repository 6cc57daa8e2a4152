import { mkdir, open, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { formatCount } from '../format-units.ts';
import { hashFile, hashFileAndGitBlob } from '../lock/hash-file.ts';
import type { HubClient, HubFile } from './hub-client.ts';
import { HubError } from './hub-errors.ts';

export interface DownloadRequest {
  repo: string;
  /** A commit, so that a resumed download continues the same bytes. */
  commit: string;
  file: HubFile;
  /** What the lock file says, when the model is locked: it outranks the hub's own listing. */
  lockedSha256?: string;
  /** Where the bytes accumulate. Never a path a model is read from: the caller renames it into place. */
  partPath: string;
  /** Called as bytes arrive, with the bytes of this file held so far (resumed ones included). */
  onProgress?: (held: number) => void;
  /** Attempts after the first, each resuming where the last stopped. */
  retries?: number;
}

export interface DownloadedFile {
  path: string;
  size: number;
  sha256: string;
  /** Bytes this call fetched (less than `size` after a resume). */
  fetched: number;
  resumedFrom: number;
  /** The part file kept from an earlier pull failed the check: it was the local copy that was corrupt, and the file was fetched again whole. */
  localPartCorrupt?: boolean;
}

const sizeOf = async (path: string) => (await stat(path).catch(() => undefined))?.size ?? 0;

/** Parses "bytes 100-199/1000" into its first byte. */
function rangeStart(contentRange: string | null): number | undefined {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(contentRange ?? '');
  return match ? Number(match[1]) : undefined;
}

/** One attempt: continue the part file from its current size, or start it over when the server ignores Range. */
async function fetchOnce(client: HubClient, request: DownloadRequest): Promise<number> {
  const { file, partPath } = request;
  let held = await sizeOf(partPath);
  if (file.size !== undefined && held > file.size) {
    await rm(partPath, { force: true });
    held = 0;
  }
  if (file.size !== undefined && held === file.size && held > 0) return 0;
  const opened = await client.openFile(request.repo, request.commit, file.path, held);
  const { response } = opened;
  if (response.status === 416) {
    // The part file cannot be continued (the server's copy is shorter): start again from nothing.
    opened.finish();
    await response.body?.cancel();
    await rm(partPath, { force: true });
    throw new HubError('network', `${file.path}: the server could not continue from byte ${formatCount(held)}; starting over`);
  }
  const resumed = response.status === 206 && rangeStart(response.headers.get('content-range')) === held;
  if (!resumed) held = 0;
  await mkdir(dirname(partPath), { recursive: true });
  const handle = await open(partPath, resumed ? 'a' : 'w');
  let fetched = 0;
  try {
    if (!response.body) throw new HubError('http', `${file.path}: the server sent no body`);
    const reader = response.body.getReader();
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      opened.touch();
      await handle.write(chunk);
      fetched += chunk.byteLength;
      request.onProgress?.(held + fetched);
    }
    await handle.sync();
  } catch (error) {
    // Disk errors (ENOSPC, EACCES) carry a code; anything else while reading the body is the connection.
    if (error instanceof HubError || typeof (error as NodeJS.ErrnoException).code === 'string') throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new HubError('network', `${file.path}: the connection broke after ${formatCount(held + fetched)} bytes (${why})`);
  } finally {
    opened.finish();
    await handle.close();
  }
  const expectedLength = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(expectedLength) && fetched < expectedLength) {
    throw new HubError('network', `${file.path}: the connection closed after ${formatCount(fetched)} of ${formatCount(expectedLength)} bytes`);
  }
  return fetched;
}

/** Rejects a finished file that differs from what the lock file or the hub says it is, and deletes it. */
async function checkIntegrity(request: DownloadRequest, origin: string): Promise<{ size: number; sha256: string }> {
  const { file, partPath } = request;
  const size = await sizeOf(partPath);
  const expected = request.lockedSha256 ?? file.sha256;
  // Without a sha256 to compare, a file kept in git is checked by its git blob id, hashed in the same read.
  const blobToCheck = !expected ? file.gitBlobId : undefined;
  const { sha256, gitBlobId } = blobToCheck ? await hashFileAndGitBlob(partPath) : { sha256: await hashFile(partPath), gitBlobId: undefined };
  const reject = async (what: string) => {
    await rm(partPath, { force: true });
    return new HubError('integrity', `${file.path} from ${origin} is corrupt: ${what}. It was deleted and nothing was installed; pull again.`);
  };
  if (file.size !== undefined && size !== file.size) throw await reject(`${formatCount(size)} bytes arrived, the hub lists ${formatCount(file.size)}`);
  const source = request.lockedSha256 ? 'the lock file expects' : 'the hub lists';
  if (expected && sha256 !== expected) throw await reject(`its sha256 is ${sha256}, ${source} ${expected}`);
  if (blobToCheck && gitBlobId !== blobToCheck) throw await reject(`its git blob id is ${gitBlobId}, the hub lists ${blobToCheck}`);
  return { size, sha256 };
}

/**
 * Downloads one file into its part file, resuming with an HTTP Range request after a cut (in this call, up
 * to `retries` times, and in a later call from what the part file holds), then checks its size and hash.
 */
export async function downloadFile(client: HubClient, request: DownloadRequest): Promise<DownloadedFile> {
  const resumedFrom = await sizeOf(request.partPath);
  let fetched = await fetchWithRetries(client, request);
  try {
    const { size, sha256 } = await checkIntegrity(request, client.endpoint);
    return { path: request.file.path, size, sha256, fetched, resumedFrom };
  } catch (error) {
    if (!(error instanceof HubError && error.kind === 'integrity') || resumedFrom === 0) throw error;
  }
  // The file was continued from a part kept on this disk, so either that part or the hub's bytes are wrong; the
  // check deleted the part, and a whole fresh copy tells which: if it passes, the local copy was corrupt.
  fetched += await fetchWithRetries(client, request);
  const { size, sha256 } = await checkIntegrity(request, client.endpoint);
  return { path: request.file.path, size, sha256, fetched, resumedFrom: 0, localPartCorrupt: true };
}

async function fetchWithRetries(client: HubClient, request: DownloadRequest): Promise<number> {
  const retries = request.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchOnce(client, request);
    } catch (error) {
      const retryable = error instanceof HubError && error.retryable;
      if (!retryable || attempt >= retries) {
        const kept = await sizeOf(request.partPath);
        if (retryable && kept > 0) (error as Error).message += ` (${formatCount(kept)} bytes kept; the next pull resumes from there)`;
        throw error;
      }
      await delay(Math.min(250 * 2 ** attempt, 4000));
    }
  }
}
