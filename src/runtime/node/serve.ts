import { serve as serveHono, type ServerType } from '@hono/node-server';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createNodeEngine } from '../../engine/onnxruntime-node.ts';
import { readModelSearchPaths, type ProjectSettings } from '../../models/resolve-model.ts';
import { createNodeApp } from './create-node-app.ts';
import { discoverFunctions } from './discover-functions.ts';

export interface ServeOptions {
  projectRoot?: string;
  functionsFolder?: string;
  host?: string;
  port?: number;
  threads?: number;
}

export async function readProjectSettings(projectRoot: string): Promise<ProjectSettings> {
  try {
    return JSON.parse(await readFile(join(projectRoot, 'honnx.config.json'), 'utf8')) as ProjectSettings;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

export interface RunningServer {
  server: ServerType;
  url: string;
  ready: Promise<unknown>;
  close(): Promise<void>;
}

/** Serves every function in the project's `functions/` folder on one Node server with the native engine. */
export async function serveProject(options: ServeOptions = {}): Promise<RunningServer> {
  const projectRoot = options.projectRoot ?? process.cwd();
  const functions = await discoverFunctions(options.functionsFolder ?? join(projectRoot, 'functions'));
  const searchPaths = readModelSearchPaths(projectRoot, process.env, await readProjectSettings(projectRoot));
  const engine = createNodeEngine({ threads: options.threads ?? 1 });
  const { app, ready } = createNodeApp({ functions, engine, searchPaths });
  const hostname = options.host ?? process.env.HOST ?? '0.0.0.0';
  const port = options.port ?? Number(process.env.PORT ?? 8787);
  const server = await new Promise<ServerType>((resolveServer) => {
    const started = serveHono({ fetch: app.fetch, hostname, port }, () => resolveServer(started));
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    url: `http://${hostname === '0.0.0.0' ? '127.0.0.1' : hostname}:${boundPort}`,
    ready: ready(),
    close: () => new Promise<void>((resolveClose, reject) => server.close((error) => (error ? reject(error) : resolveClose()))),
  };
}
