import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ModelVariant } from '../model-bundle.ts';
import { listVariants, selectModelFiles } from '../model-file-selection.ts';
import { hashFile } from './hash-file.ts';
import type { LockEntry, LockedFile, ModelSource } from './lock-file.ts';

/** Every file under a folder, as forward-slash paths relative to it; dot-files and dot-folders are skipped. */
export async function listFolderFiles(folder: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (current: string) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) found.push(relative(folder, path).split(sep).join('/'));
    }
  };
  await walk(folder);
  return found.sort();
}

export async function describeLockedFile(folder: string, path: string): Promise<LockedFile> {
  const absolute = join(folder, path);
  return { path, size: (await stat(absolute)).size, sha256: await hashFile(absolute) };
}

/** A lock entry for a model folder already on disk: the files a task needs in `variant`, hashed. */
export async function lockModelFolder(name: string, folder: string, variant: ModelVariant, source: ModelSource): Promise<LockEntry> {
  const paths = await listFolderFiles(folder);
  const { files, graphs } = selectModelFiles(paths, variant);
  if (graphs.length === 0) {
    const available = listVariants(paths);
    throw new Error(`${folder} has no ONNX graph in variant ${variant}${available.length ? ` (it has: ${available.join(', ')})` : ' (no onnx/*.onnx at all)'}`);
  }
  const locked: LockedFile[] = [];
  for (const path of files) locked.push(await describeLockedFile(folder, path));
  return { name, variant, source, files: locked };
}
