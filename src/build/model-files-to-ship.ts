import type { LockEntry, LockedFile } from '../models/lock/lock-file.ts';
import { lockModelFolder } from '../models/lock/lock-folder.ts';
import { assertModelMatchesLock } from '../models/lock/verify-model.ts';
import type { ModelVariant } from '../models/model-bundle.ts';
import { parseGraphPath } from '../models/model-file-selection.ts';

/** What a function ships of its model: the files a task reads, in the function's variant, hashed. */
export interface ShippedModel {
  name: string;
  variant: ModelVariant;
  folder: string;
  files: LockedFile[];
  /** The lock entry for these files: a node artifact verifies its model against it before serving. */
  lock: LockEntry;
  /** Bytes of the ONNX graphs and their external data: what ONNX Runtime copies into its memory. */
  graphBytes: number;
  totalBytes: number;
  /**
   * The version these files are, when a function names one (a pin, a canary): its OCI manifest digest or hub commit.
   * Absent for the model a plain name resolves to.
   */
  version?: string;
}

function toShippedModel(folder: string, lock: LockEntry, version?: string): ShippedModel {
  const sum = (files: readonly LockedFile[]) => files.reduce((total, file) => total + file.size, 0);
  return {
    name: lock.name,
    variant: lock.variant,
    folder,
    files: lock.files,
    lock,
    graphBytes: sum(lock.files.filter((file) => parseGraphPath(file.path))),
    totalBytes: sum(lock.files),
    ...(version === undefined ? {} : { version }),
  };
}

/**
 * The files a function needs from its model folder, chosen as `honnx models lock` chooses them: the top-level
 * configuration, tokenizer and featurizer files and the graphs of the function's variant, not documentation,
 * sources or other variants.
 */
export async function listShippedModel(name: string, folder: string, variant: ModelVariant = 'fp32'): Promise<ShippedModel> {
  return toShippedModel(folder, await lockModelFolder(name, folder, variant, { type: 'folder', path: folder }));
}

/**
 * One version of a model (a pinned or canary version, from the version store or the locked copy), shipped as its
 * entry lists it: checked byte for byte against the entry first, so that a build never ships other files than the
 * version it names. `entryOrigin` says where the entry came from, for the message when a file differs.
 */
export async function listShippedVersion(folder: string, entry: LockEntry, version: string, entryOrigin: string): Promise<ShippedModel> {
  await assertModelMatchesLock(folder, entry, entryOrigin);
  return toShippedModel(folder, entry, version);
}
