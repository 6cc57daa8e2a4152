import type { LockEntry, LockedFile } from '../models/lock/lock-file.ts';
import { lockModelFolder } from '../models/lock/lock-folder.ts';
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
}

/**
 * The files a function needs from its model folder, chosen as `honnx models lock` chooses them: the top-level
 * configuration, tokenizer and featurizer files and the graphs of the function's variant, not documentation,
 * sources or other variants.
 */
export async function listShippedModel(name: string, folder: string, variant: ModelVariant = 'fp32'): Promise<ShippedModel> {
  const lock = await lockModelFolder(name, folder, variant, { type: 'folder', path: folder });
  const sum = (files: readonly LockedFile[]) => files.reduce((total, file) => total + file.size, 0);
  return {
    name,
    variant,
    folder,
    files: lock.files,
    lock,
    graphBytes: sum(lock.files.filter((file) => parseGraphPath(file.path))),
    totalBytes: sum(lock.files),
  };
}
