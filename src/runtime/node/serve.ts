import { serve as serveHono, type ServerType } from '@hono/node-server';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createNodeEngine } from '../../engine/onnxruntime-node.ts';
import { createLogger, type Logger } from '../../http/logging/logger.ts';
import { createServingMetrics } from '../../http/metrics/serving-metrics.ts';
import { createRequestDrain } from '../../http/middleware/request-drain.ts';
import { describeServerSettings } from '../../http/settings/server-settings.ts';
import { readModelSearchPaths, type ProjectSettings } from '../../models/resolve-model.ts';
import { createNodeApp } from './create-node-app.ts';
import { discoverFunctions } from './discover-functions.ts';
import { defaultWorkerCount } from './worker-lanes.ts';
import { shutDownGracefully } from './graceful-shutdown.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { readNodeServerSettings } from './server-settings.ts';

export interface ServeOptions {
  projectRoot?: string;
  functionsFolder?: string;
  host?: string;
  port?: number;
  /** Intra-op threads of each session. */
  threads?: number;
  /** Worker threads per function, each with sessions of its own; 0 runs models on the HTTP thread. One per core by default. */
  workers?: number;
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
  /** JSON lines at the configured level (HONNX_LOG_LEVEL). */
  logger: Logger;
  close(): Promise<void>;
  /** What SIGTERM does: stop accepting, let accepted requests finish (or answer them 503 at HONNX_SHUTDOWN_TIMEOUT), close. */
  shutdown(): Promise<void>;
}

/** Serves every function in the project's `functions/` folder on one Node server with the native engine. */
export async function serveProject(options: ServeOptions = {}): Promise<RunningServer> {
  const projectRoot = options.projectRoot ?? process.cwd();
  const functions = await discoverFunctions(options.functionsFolder ?? join(projectRoot, 'functions'));
  const projectSettings = await readProjectSettings(projectRoot);
  const searchPaths = readModelSearchPaths(projectRoot, process.env, projectSettings);
  const settings = readNodeServerSettings(projectRoot, functions, (projectSettings as { server?: unknown }).server);
  const logger = createLogger(settings.logging);
  logger.info('settings', describeServerSettings(settings));
  if (settings.logging.inputs) logger.warn('logging_inputs', { message: 'request bodies are written to the log (HONNX_LOG_INPUTS): for debugging only' });
  const metrics = createServingMetrics();
  registerProcessMetrics(metrics.registry);
  const drain = createRequestDrain();
  const engine = createNodeEngine({ threads: options.threads ?? 1 });
  const workerThreads = { count: options.workers ?? defaultWorkerCount(), threads: options.threads ?? 1 };
  const { app, ready, release } = createNodeApp({ functions, engine, searchPaths, serving: { server: settings, metrics, logger, drain }, workerThreads });
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
    logger,
    // Worker threads stop only once every accepted request has been answered.
    shutdown: () => shutDownGracefully(server as Server, { drain, timeoutMs: settings.shutdownTimeoutMs, logger }).then(release),
    close: () => new Promise<void>((resolveClose, reject) => server.close((error) => (error ? reject(error) : resolveClose()))).finally(release),
  };
}
