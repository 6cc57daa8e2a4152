import { access, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ModelFiles } from './model-files.ts';

/** A model folder on the local disk (Node only). */
export function createFolderModelFiles(folder: string, name = basename(folder)): ModelFiles {
  const root = resolve(folder);
  return {
    name,
    location: root,
    has: (path) =>
      access(join(root, path)).then(
        () => true,
        () => false,
      ),
    readText: (path) => readFile(join(root, path), 'utf8'),
    readBytes: async (path) => new Uint8Array(await readFile(join(root, path))),
    localPath: (path) => join(root, path),
    size: (path) => stat(join(root, path)).then((found) => found.size, () => undefined),
  };
}
