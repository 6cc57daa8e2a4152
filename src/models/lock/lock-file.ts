import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ModelVariant } from '../model-bundle.ts';
import { isModelVariant } from '../model-file-selection.ts';

/** The lock file's name inside the project's `models/` folder. */
export const LOCK_FILE_NAME = 'honnx.lock.json';

/** One file of a locked model: its path in the folder, size and sha256. */
export interface LockedFile {
  /** Inside the model folder, with forward slashes. */
  path: string;
  size: number;
  sha256: string;
}

/** Where a model came from: a hub repository at a commit, an OCI registry at a manifest digest, or a folder (the project's, or a mirror). */
export type ModelSource =
  | { type: 'hub'; repo: string; revision: string; commit: string }
  | { type: 'oci'; registry: string; repository: string; tag?: string; digest: string; signature?: string }
  | { type: 'folder'; path: string };

/** One model in `models/honnx.lock.json`: its name, variant, source and every file's size and sha256. */
export interface LockEntry {
  /** The name functions use: a hub repository id or a folder name. */
  name: string;
  variant: ModelVariant;
  source: ModelSource;
  files: LockedFile[];
}

export interface LockFile {
  lockfileVersion: 1;
  models: LockEntry[];
}

export const lockFilePath = (projectModelsFolder: string) => join(projectModelsFolder, LOCK_FILE_NAME);

const emptyLock = (): LockFile => ({ lockfileVersion: 1, models: [] });

function invalid(path: string, why: string): Error {
  return new Error(`${path} is not a valid honnx lock file: ${why}`);
}

/** Checks the shape of a parsed lock file, so that a hand edit gone wrong is reported by path and entry. */
function checkLockFile(value: unknown, path: string): LockFile {
  const lock = value as Partial<LockFile>;
  if (!lock || typeof lock !== 'object' || lock.lockfileVersion !== 1 || !Array.isArray(lock.models)) {
    throw invalid(path, 'expected {"lockfileVersion": 1, "models": [...]}');
  }
  lock.models.forEach((entry, index) => {
    const where = `models[${index}]${typeof entry?.name === 'string' ? ` (${entry.name})` : ''}`;
    if (typeof entry?.name !== 'string' || !entry.name) throw invalid(path, `${where} has no name`);
    if (!isModelVariant(String(entry.variant))) throw invalid(path, `${where} has an unknown variant "${String(entry.variant)}"`);
    const source = entry.source as Partial<ModelSource> | undefined;
    if (source?.type !== 'hub' && source?.type !== 'folder' && source?.type !== 'oci') throw invalid(path, `${where} has no source of type "hub", "oci" or "folder"`);
    if (source.type === 'oci' && !/^sha256:[0-9a-f]{64}$/.test(String(source.digest))) throw invalid(path, `${where} has an OCI source without a sha256 manifest digest`);
    if (!Array.isArray(entry.files) || entry.files.length === 0) throw invalid(path, `${where} lists no files`);
    for (const file of entry.files) {
      if (typeof file?.path !== 'string' || typeof file.size !== 'number' || !/^[0-9a-f]{64}$/.test(String(file.sha256))) {
        throw invalid(path, `${where} has a file entry without path, size and a 64-hex-digit sha256`);
      }
    }
  });
  return lock as LockFile;
}

function parseLockFile(text: string, path: string): LockFile {
  try {
    return checkLockFile(JSON.parse(text), path);
  } catch (error) {
    if (error instanceof SyntaxError) throw invalid(path, error.message);
    throw error;
  }
}

/** The project's lock file, or an empty one when it does not exist yet. */
export async function readLockFile(path: string): Promise<LockFile> {
  try {
    return parseLockFile(await readFile(path, 'utf8'), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyLock();
    throw error;
  }
}

/** The same, synchronously, for start-up code that resolves every model before serving. */
export function readLockFileSync(path: string): LockFile {
  try {
    return parseLockFile(readFileSync(path, 'utf8'), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyLock();
    throw error;
  }
}

/** Code-point order: the same on every machine, whatever its locale. */
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Writes the lock file atomically, entries sorted by name and variant so that diffs stay small. */
export async function writeLockFile(path: string, lock: LockFile): Promise<void> {
  const models = [...lock.models].sort((a, b) => compareText(a.name, b.name) || compareText(a.variant, b.variant));
  const sorted: LockFile = { lockfileVersion: 1, models: models.map((entry) => ({ ...entry, files: [...entry.files].sort((a, b) => compareText(a.path, b.path)) })) };
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(sorted, null, 2)}\n`);
  await rename(temporary, path);
}

export function findLockEntry(lock: LockFile, name: string, variant: ModelVariant = 'fp32'): LockEntry | undefined {
  return lock.models.find((entry) => entry.name === name && entry.variant === variant);
}

/** Adds an entry, or replaces the one for the same model and variant. */
export function upsertLockEntry(lock: LockFile, entry: LockEntry): LockFile {
  return { lockfileVersion: 1, models: [...lock.models.filter((existing) => !(existing.name === entry.name && existing.variant === entry.variant)), entry] };
}

export function describeSource(source: ModelSource): string {
  if (source.type === 'oci') return `oci ${source.registry}/${source.repository}${source.tag ? `:${source.tag}` : ''} (${source.digest.slice(0, 19)})`;
  return source.type === 'hub' ? `hub ${source.repo}@${source.revision} (${source.commit.slice(0, 12)})` : `folder ${source.path}`;
}
