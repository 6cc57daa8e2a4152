import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';
import type { HonnxFunction } from '../../spec/define-function.ts';
import { runWorkerThread } from './worker-thread.ts';
import type { WorkerSetup } from './worker-protocol.ts';

/*
 * The entry of a worker thread started from honnx's TypeScript sources (through worker-bootstrap.mjs and tsx):
 * it imports the function's file for its task. `honnx serve` and node artifacts start threads from a bundle
 * instead (worker-bundle.ts), which needs no TypeScript loader; this entry is the fallback, and what tests use.
 */
const { functionFile } = (workerData as { setup: WorkerSetup }).setup;
runWorkerThread(async () => {
  if (!functionFile) throw new Error('a worker thread started from sources needs the function file');
  return ((await import(pathToFileURL(functionFile).href)) as { default?: HonnxFunction }).default;
});
