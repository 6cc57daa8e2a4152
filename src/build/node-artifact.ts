import { serve, type ServerType } from '@hono/node-server';
import { createNodeEngine } from '../engine/onnxruntime-node.ts';
import type { HonnxFunction } from '../http/define-function.ts';
import { readModelSearchPaths } from '../models/resolve-model.ts';
import { createNodeApp, MissingModelsError } from '../runtime/node/create-node-app.ts';
import { readProjectSettings } from '../runtime/node/serve.ts';

export interface ServeArtifactOptions {
  name: string;
  fn: HonnxFunction;
  /** The artifact's folder: its models/ (lock file, and the model when it was included) and honnx.config.json. */
  folder: string;
}

/**
 * What `node dist/node/<function>/index.mjs` runs: one function on the native engine. The artifact's folder is
 * its project, so the model resolves as on `honnx serve` with `models/<name>` beside the entry first, and is
 * verified against the lock file the build wrote in `models/` before its session is created.
 */
export async function serveArtifact({ name, fn, folder }: ServeArtifactOptions): Promise<{ server: ServerType; url: string }> {
  const searchPaths = readModelSearchPaths(folder, process.env, await readProjectSettings(folder));
  let created;
  try {
    created = createNodeApp({ functions: [{ name, fn }], engine: createNodeEngine({ threads: Number(process.env.HONNX_THREADS ?? 1) }), searchPaths });
  } catch (error) {
    if (error instanceof MissingModelsError) throw new Error(`function ${name} cannot start:\n\n${error.message}`, { cause: error });
    throw error;
  }
  const hostname = process.env.HOST ?? '0.0.0.0';
  const port = Number(process.env.PORT ?? 8787);
  const server = await new Promise<ServerType>((resolveServer) => {
    const started = serve({ fetch: created.app.fetch, hostname, port }, () => resolveServer(started));
  });
  const address = server.address();
  const url = `http://${hostname === '0.0.0.0' ? '127.0.0.1' : hostname}:${typeof address === 'object' && address ? address.port : port}`;
  console.log(`honnx ${name} listening on ${url}, loading model ${fn.definition.model}...`);
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await created.ready();
  console.log(`honnx ${name} ready on ${url}`);
  return { server, url };
}
