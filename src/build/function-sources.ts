import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { FunctionDefinition } from '../spec/function-definition.ts';
import { discoverFunctions } from '../runtime/node/discover-functions.ts';

export interface FunctionSource {
  name: string;
  /** Absolute path of the function's file. */
  file: string;
  definition: FunctionDefinition;
}

/** Every function in the project's folder with the file it came from, as the build bundles files. */
export async function listFunctionSources(folder: string): Promise<FunctionSource[]> {
  const functions = await discoverFunctions(folder);
  const files = await readdir(folder);
  return functions.map(({ name, fn }) => {
    const file = files.find((candidate) => basename(candidate, extname(candidate)) === name && !candidate.includes('.test.'));
    if (!file) throw new Error(`cannot find the file of function ${name} in ${folder}`);
    return { name, file: resolve(join(folder, file)), definition: fn.definition };
  });
}
