import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** The sha256 of a file, streamed so that large graphs never sit whole in memory. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The sha256 and the git blob id of a file, in one read. The git blob id is sha1 of "blob <size>\0" + content; the
 * hub lists it for files kept in git (not LFS), which is how a small file such as config.json is checked when the
 * hub gives no sha256 for it.
 */
export async function hashFileAndGitBlob(path: string): Promise<{ sha256: string; gitBlobId: string }> {
  const { size } = await stat(path);
  const sha256 = createHash('sha256');
  const blob = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) {
    sha256.update(chunk as Buffer);
    blob.update(chunk as Buffer);
  }
  return { sha256: sha256.digest('hex'), gitBlobId: blob.digest('hex') };
}
