import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { hashFileAndGitBlob } from '../lock/hash-file.ts';
import { listFolderFiles } from '../lock/lock-folder.ts';

/** A file of a mirrored repository, described as the hub describes it. */
export interface MirrorFile {
  path: string;
  size: number;
  sha256: string;
  gitBlobId: string;
  /** Kept in LFS on the hub: the listing gives its sha256 and the download its sha256 ETag. */
  lfs: boolean;
}

export interface MirrorRepository {
  id: string;
  folder: string;
  /** A stable id of the folder's content, standing in for the commit: it changes when any file changes. */
  commit: string;
  files: MirrorFile[];
}

/** The hub's default .gitattributes sends these to LFS; the mirror describes them the same way. */
const LFS_FILE = /\.(onnx|onnx_data|data|bin|safetensors|pt|pth|h5|msgpack|tflite|ftz|model|gguf|zip|tar|gz)$|\.onnx_data_\d+$/;

/**
 * A folder of models seen as hub repositories: `<folder>/<name>/` is repository `name`, and
 * `<folder>/<org>/<name>/` is `org/name`; a folder is a model when it holds config.json. Hashes are cached by
 * path, size and modification time, so a listing after the first costs a stat per file.
 */
export class MirrorRepositories {
  readonly root: string;
  private readonly hashes = new Map<string, { sha256: string; gitBlobId: string }>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The repository's folder, or undefined for an id that is not a model folder (or would leave the root). */
  folderOf(id: string): string | undefined {
    const parts = id.split('/');
    if (parts.length > 2 || parts.some((part) => !part || part === '.' || part === '..' || part.startsWith('.'))) return undefined;
    const folder = resolve(this.root, ...parts);
    if (!folder.startsWith(this.root + sep)) return undefined;
    return existsSync(join(folder, 'config.json')) ? folder : undefined;
  }

  /** Every model folder one or two levels down. */
  async listIds(): Promise<string[]> {
    const ids: string[] = [];
    for (const entry of await readdir(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      if (this.folderOf(entry.name)) ids.push(entry.name);
      else {
        for (const inner of await readdir(join(this.root, entry.name), { withFileTypes: true }).catch(() => [])) {
          if (inner.isDirectory() && this.folderOf(`${entry.name}/${inner.name}`)) ids.push(`${entry.name}/${inner.name}`);
        }
      }
    }
    return ids.sort();
  }

  private async describe(folder: string, path: string): Promise<MirrorFile> {
    const absolute = join(folder, path);
    const info = await stat(absolute);
    const key = `${absolute}\0${info.size}\0${info.mtimeMs}`;
    let hashes = this.hashes.get(key);
    if (!hashes) {
      hashes = await hashFileAndGitBlob(absolute);
      this.hashes.set(key, hashes);
    }
    return { path, size: info.size, ...hashes, lfs: LFS_FILE.test(path) };
  }

  async open(id: string): Promise<MirrorRepository | undefined> {
    const folder = this.folderOf(id);
    if (!folder) return undefined;
    const files: MirrorFile[] = [];
    for (const path of await listFolderFiles(folder)) files.push(await this.describe(folder, path));
    const commit = createHash('sha1');
    for (const file of files) commit.update(`${file.path}\0${file.sha256}\n`);
    return { id, folder, commit: commit.digest('hex'), files };
  }
}
