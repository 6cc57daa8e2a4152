import { join, resolve } from 'node:path';
import { discoverFunctions, type NamedFunction } from '../../src/runtime/node/discover-functions.ts';
import { describeTestFunctions, type TestFunction } from './function-set.ts';

const projectRoot = join(import.meta.dirname, '../..');

/**
 * The folder of functions the discovery-driven suites serve: the project's functions/, or HONNX_TEST_FUNCTIONS (a
 * copy with more functions in it: `npm run test:function-set` adds the README's functions/reviews.ts).
 */
export const testFunctionsFolder = process.env.HONNX_TEST_FUNCTIONS ? resolve(process.env.HONNX_TEST_FUNCTIONS) : join(projectRoot, 'functions');

/** Every function in that folder, found as `honnx serve` finds them, and how the suites describe each. */
export async function discoverTestFunctions(): Promise<{ named: NamedFunction[]; functions: TestFunction[] }> {
  const named = await discoverFunctions(testFunctionsFolder);
  return { named, functions: describeTestFunctions(named) };
}
