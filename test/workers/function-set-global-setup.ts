import type { TestProject } from 'vitest/node';
import type { TestFunction } from '../support/function-set.ts';
import { discoverTestFunctions } from '../support/test-functions.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The functions discovery finds (functions/, or HONNX_TEST_FUNCTIONS), for suites inside workerd, which cannot read folders. */
    testFunctions: TestFunction[];
  }
}

/** vitest globalSetup for workerd: discovers the function set in Node, as the server does, and hands it to the tests. */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('testFunctions', (await discoverTestFunctions()).functions);
}
