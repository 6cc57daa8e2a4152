import { createMemoryModelFiles, type ModelFiles } from '../../models/model-files.ts';

/**
 * A model bundled into the worker as Data modules: each file of the model folder imported as an ArrayBuffer,
 * keyed by its path in the folder (`config.json`, `onnx/model.onnx`, ...).
 */
export function createBundledModelFiles(name: string, modules: Record<string, ArrayBuffer | Uint8Array>): ModelFiles {
  const entries: Record<string, Uint8Array> = {};
  for (const [path, bytes] of Object.entries(modules)) entries[path] = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return createMemoryModelFiles(name, entries, `bundle:${name}`);
}
