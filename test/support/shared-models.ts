import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import type { ModelFiles } from '../../src/models/model-files.ts';

/**
 * The real models live outside the repository (../shared/models, or wherever HONNX_MIRROR points);
 * tests reach them through the same mirror setting the server uses and never copy them.
 */
export const mirrorFolder = resolve(process.env.HONNX_MIRROR ?? join(import.meta.dirname, '../../../shared/models'));

export const hasMirror = existsSync(mirrorFolder);

export function mirrorModelFiles(name: string): ModelFiles {
  const folder = join(mirrorFolder, name);
  if (!existsSync(folder)) throw new Error(`test model ${name} not found in ${mirrorFolder}; set HONNX_MIRROR`);
  return createFolderModelFiles(folder, name);
}

export function datasetPath(...parts: string[]): string {
  return join(mirrorFolder, 'datasets', ...parts);
}
