import { join } from 'node:path';
import { bundleWorkerEntries } from '../build/node-bundle.ts';
import { discoverFunctions, type NamedFunction } from '../runtime/node/discover-functions.ts';
import { CannotServeError, startNodeServer, type RunningServer } from '../runtime/node/node-server.ts';
import { defaultWorkerCount } from '../runtime/node/worker-lanes.ts';

export { readProjectSettings, type RunningServer } from '../runtime/node/node-server.ts';

/** What `serveProject` serves and how: the project, which functions, the address, threads and worker threads. */
export interface ServeOptions {
  projectRoot?: string;
  functionsFolder?: string;
  /** Serve only these functions (by name); every function in the folder by default. */
  only?: readonly string[];
  host?: string;
  port?: number;
  /** Intra-op threads of each session. */
  threads?: number;
  /** Worker threads per function, each with sessions of its own; 0 runs models on the HTTP thread. One per core by default. */
  workers?: number;
}

/**
 * Worker threads start from one bundle per function, built into the project's .cache at start: a thread started
 * from sources would load tsx's TypeScript loader (its own thread, ~17 MB) too. Where bundling fails (a read-only
 * project), threads start from sources, and the server says so.
 */
async function bundleWorkers(projectRoot: string, functions: readonly NamedFunction[]): Promise<{ bundles?: Map<string, string>; failure?: string }> {
  const files = functions.flatMap(({ name, file }) => (file ? [{ name, file }] : []));
  if (files.length === 0) return {};
  try {
    return { bundles: await bundleWorkerEntries(projectRoot, files, join(projectRoot, '.cache', 'honnx-workers')) };
  } catch (error) {
    return { failure: error instanceof Error ? error.message : String(error) };
  }
}

/** The functions of a folder, or only those named (an unknown name is an error). */
export async function selectFunctions(folder: string, only: readonly string[] | undefined): Promise<NamedFunction[]> {
  const functions = await discoverFunctions(folder);
  if (!only) return functions;
  const unknown = only.filter((name) => !functions.some((fn) => fn.name === name));
  if (unknown.length > 0) throw new CannotServeError(`no function named ${unknown.join(', ')} in ${folder}`);
  return functions.filter((fn) => only.includes(fn.name));
}

/** Serves the functions in the project's `functions/` folder on one Node server with the native engine. */
export async function serveProject(options: ServeOptions = {}): Promise<RunningServer> {
  const projectRoot = options.projectRoot ?? process.cwd();
  const functions = await selectFunctions(options.functionsFolder ?? join(projectRoot, 'functions'), options.only);
  const workers = options.workers ?? defaultWorkerCount();
  const { bundles, failure } = workers > 0 ? await bundleWorkers(projectRoot, functions) : {};
  const running = await startNodeServer({ ...options, functions, projectRoot, workers, workerBundles: bundles });
  if (failure) running.logger.warn('worker_bundle_failed', { message: `worker threads start from sources (through tsx): ${failure}` });
  return running;
}
