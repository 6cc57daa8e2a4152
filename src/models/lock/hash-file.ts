import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** The sha256 of a file, streamed so that large graphs never sit whole in memory. */
export async function hashFile(path: string, algorithm: 'sha256' | 'sha1' = 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The git blob id of a file: sha1 of "blob <size>\0" + content. The hub lists it for files kept in git (not LFS),
 * which is how a small file such as config.json is checked when the hub gives no sha256 for it.
 */
export async function hashGitBlob(path: string): Promise<string> {
  const { size } = await stat(path);
  const hash = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
