import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HonnxFunction } from '../../spec/define-function.ts';

/** A function with its name (its file's name) and file. */
export interface NamedFunction {
  name: string;
  fn: HonnxFunction;
  /** The function's file, when it was loaded from one: worker threads import it to find its task. */
  file?: string;
}

const FUNCTION_FILE = /\.(ts|mts|js|mjs)$/;

/** Every function file in a folder, named after its file (`functions/classify.ts` → "classify"). */
export async function discoverFunctions(folder: string): Promise<NamedFunction[]> {
  const files = (await readdir(folder)).filter((file) => FUNCTION_FILE.test(file) && !file.includes('.test.')).sort();
  const functions: NamedFunction[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(resolve(join(folder, file))).href)) as { default?: HonnxFunction };
    if (!module.default?.definition) {
      throw new Error(`${join(folder, file)} must export default defineFunction({...})`);
    }
    functions.push({ name: basename(file, extname(file)), fn: module.default, file: resolve(join(folder, file)) });
  }
  return functions;
}
