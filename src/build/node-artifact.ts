import type { HonnxFunction } from '../spec/define-function.ts';
import { serveUntilSignalled, startNodeServer } from '../runtime/node/node-server.ts';
import { readWorkerCount } from '../runtime/node/worker-lanes.ts';

export interface ServeArtifactOptions {
  name: string;
  fn: HonnxFunction;
  /** The artifact's folder: its models/ (lock file, and the model when it was included) and honnx.config.json. */
  folder: string;
  /** The worker threads' bundled entry beside the artifact's own (worker.mjs). */
  workerBundle: string;
}

/**
 * What `node dist/node/<function>/index.mjs` runs: one function on `honnx serve`'s server (API keys, CORS, JSON
 * request logs, /metrics, graceful SIGTERM shutdown), its model on HONNX_WORKERS worker threads started from
 * worker.mjs (default one per core; 0: on the HTTP thread) with HONNX_THREADS intra-op threads each. The artifact's
 * folder is its project, so the model resolves as on `honnx serve` with `models/<name>` beside the entry first, and
 * is verified against the lock file the build wrote in `models/` before its session is created.
 */
export async function serveArtifact({ name, fn, folder, workerBundle }: ServeArtifactOptions): Promise<void> {
  const workers = readWorkerCount(process.env.HONNX_WORKERS);
  const threads = Number(process.env.HONNX_THREADS || 1);
  process.exitCode = await serveUntilSignalled(() =>
    startNodeServer({ functions: [{ name, fn }], projectRoot: folder, workers, threads, workerBundles: new Map([[name, workerBundle]]) }),
  );
}
