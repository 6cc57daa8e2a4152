import { serve as serveHono, type ServerType } from '@hono/node-server';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createNodeEngine } from '../../engine/onnxruntime-node.ts';
import { ADMIN_PREFIX, createAdminHandler } from './admin-handler.ts';
import type { FleetController } from './fleet-controller.ts';
import { readPublicKey } from '../../models/oci/model-signature.ts';
import { createApiKeySet, parseApiKeys } from '../../http/auth/api-keys.ts';
import { createLogger, describeError, type Logger } from '../../http/logging/logger.ts';
import { createServingMetrics, type ServingMetrics } from '../../http/metrics/serving-metrics.ts';
import { createRequestDrain } from '../../http/middleware/request-drain.ts';
import { describeServerSettings, ServerSettingsError } from '../../http/settings/server-settings.ts';
import { readModelSearchPaths, type ProjectSettings } from '../../models/resolve-model.ts';
import { limitBodyBytesInFlight } from '../../http/body-bytes-in-flight.ts';
import { processLogWriter } from './batched-log-writer.ts';
import { createNodeApp, MissingModelsError, PinnedVersionError } from './create-node-app.ts';
import type { NamedFunction } from './discover-functions.ts';
import { shutDownGracefully } from './graceful-shutdown.ts';
import { stopWhenLauncherExits } from './launcher-exit.ts';
import { describeListenAddress, formatListening, type ListenAddress } from './listen-address.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { createVersionMetrics } from './version-metrics.ts';
import { readNodeServerSettings } from './server-settings.ts';
import { defaultWorkerCount } from './worker-lanes.ts';

/*
 * The one Node server of honnx, shared by `honnx serve` (functions from a project's sources) and a node artifact
 * (one bundled function): API keys, CORS, JSON request logs, /metrics, worker threads and graceful shutdown.
 */

export async function readProjectSettings(projectRoot: string): Promise<ProjectSettings> {
  try {
    return JSON.parse(await readFile(join(projectRoot, 'honnx.config.json'), 'utf8')) as ProjectSettings;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

/** Something in the project or the command line that stops a server from starting (an unknown function name, ...). */
export class CannotServeError extends Error {
  override name = 'CannotServeError';
}

export interface NodeServerOptions {
  functions: readonly NamedFunction[];
  /** Where honnx.config.json, models/ (and the lock file) and relative key files are read from. */
  projectRoot: string;
  host?: string;
  port?: number;
  /** Intra-op threads of each session. */
  threads?: number;
  /** Worker threads per function, each with sessions of its own; 0 runs models on the HTTP thread. One per core by default. */
  workers?: number;
  /** Each function's bundled worker entry, by name; functions without one start their threads from sources. */
  workerBundles?: ReadonlyMap<string, string>;
}

/** A started Node server: its address, logger and a way to close it. */
export interface RunningServer {
  server: ServerType;
  /** A URL that reaches the server from this machine. */
  url: string;
  /** The address the server bound (`0.0.0.0:8787` by default) and that URL. */
  address: ListenAddress;
  ready: Promise<unknown>;
  /** JSON lines at the configured level (HONNX_LOG_LEVEL). */
  logger: Logger;
  /** Each function's model version: activate, roll back, re-read the lock (SIGHUP). */
  fleet: FleetController;
  close(): Promise<void>;
  /** What SIGTERM does: stop accepting, let accepted requests finish (or answer them 503 at HONNX_SHUTDOWN_TIMEOUT), close. */
  shutdown(): Promise<void>;
}

/** Serves functions on one Node server with the native engine; HOST and PORT from the environment by default. */
export async function startNodeServer(options: NodeServerOptions): Promise<RunningServer> {
  const { functions, projectRoot } = options;
  const projectSettings = await readProjectSettings(projectRoot);
  const searchPaths = readModelSearchPaths(projectRoot, process.env, projectSettings);
  const settings = readNodeServerSettings(projectRoot, functions, (projectSettings as { server?: unknown }).server);
  const logger = createLogger({ ...settings.logging, write: processLogWriter().write });
  logger.info('settings', describeServerSettings(settings));
  if (settings.logging.inputs) logger.warn('logging_inputs', { message: 'request bodies are written to the log (HONNX_LOG_INPUTS): for debugging only' });
  const metrics = createServingMetrics();
  registerProcessMetrics(metrics.registry);
  const drain = createRequestDrain();
  const threads = options.threads ?? 1;
  const engine = createNodeEngine({ threads });
  const workerThreads = { count: options.workers ?? defaultWorkerCount(), threads: options.threads, bundles: options.workerBundles };
  const functionsFolder = join(projectRoot, 'functions');
  const versionMetrics = createVersionMetrics(metrics);
  const { app, ready, release, fleet } = createNodeApp({
    functions,
    engine,
    searchPaths,
    serving: { server: settings, metrics, logger, drain, afterAnswer: setImmediate },
    workerThreads,
    functionsFolder: existsSync(functionsFolder) ? functionsFolder : undefined,
    fleet: {
      publicKey: process.env.HONNX_MODEL_PUBLIC_KEY ? await readPublicKey(process.env.HONNX_MODEL_PUBLIC_KEY) : undefined,
      onSwitch: (functionName, report) => logger.info('model_activated', { function: functionName, ...report, message: `${functionName} now serves ${report.version}` }),
      onAnswered: versionMetrics.observeAnswer,
    },
  });
  versionMetrics.watch(fleet);
  const adminKeys = parseApiKeys(process.env.HONNX_ADMIN_KEYS ?? '');
  const admin = createAdminHandler(fleet, adminKeys.length > 0 ? createApiKeySet(adminKeys) : undefined);
  // The admin endpoints sit beside the app, with keys of their own, so that no API key can swap a model.
  const fetchWithAdmin = (request: Request, ...rest: unknown[]) =>
    request.url.startsWith(ADMIN_PREFIX, request.url.indexOf('/', request.url.indexOf('//') + 2)) ? admin(request) : (app.fetch as (request: Request, ...rest: unknown[]) => Response | Promise<Response>)(request, ...rest);
  const hostname = options.host ?? process.env.HOST ?? '0.0.0.0';
  const port = options.port ?? Number(process.env.PORT ?? 8787);
  const readTimeoutMs = readPositiveSetting('HONNX_REQUEST_READ_TIMEOUT', DEFAULT_READ_TIMEOUT_SECONDS) * 1000;
  limitBodyBytesInFlight(readPositiveSetting('HONNX_BODY_BYTES_IN_FLIGHT', DEFAULT_BODY_BYTES_IN_FLIGHT));
  // Node answers 408 to a request whose headers and body have not all arrived in time (its default, 300 s, held an
  // unfinished body five minutes); connections are checked a few times per time-out.
  const serverOptions = {
    requestTimeout: readTimeoutMs,
    headersTimeout: readTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(readTimeoutMs / 4, 30_000)),
  };
  const server = await new Promise<ServerType>((resolveServer) => {
    const started = serveHono({ fetch: fetchWithAdmin, hostname, port, serverOptions }, () => resolveServer(started));
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const listening = describeListenAddress(hostname, boundPort);
  return {
    server,
    url: listening.url,
    address: listening,
    ready: ready(),
    logger,
    fleet,
    // Worker threads stop only once every accepted request has been answered.
    shutdown: () =>
      shutDownGracefully(server as Server, { drain, timeoutMs: settings.shutdownTimeoutMs, logger })
        .then(release)
        .then(() => waitForRecords(metrics, logger)),
    close: () => new Promise<void>((resolveClose, reject) => server.close((error) => (error ? reject(error) : resolveClose()))).finally(release),
  };
}

const RECORDS_WAIT_MILLISECONDS = 2000;
const DEFAULT_READ_TIMEOUT_SECONDS = 30;
const DEFAULT_BODY_BYTES_IN_FLIGHT = 64 << 20;

function readPositiveSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0)) throw new ServerSettingsError(`${name} must be a positive number (got "${raw}")`);
  return value;
}

/**
 * Exits once the log lines already written have left the process: writes to a pipe are asynchronous, and an exit
 * right after hundreds of 503 lines (a shutdown deadline) dropped most of them.
 */
export function exitOnceWritten(code: number): void {
  processLogWriter().flush();
  let waiting = 2;
  const done = () => {
    if (--waiting === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

/**
 * Waits until every request has its log line and metrics (each is recorded just after its answer is written, and a
 * request answered 503 at the shutdown deadline finishes its handler only once its lane lets go of it), so that the
 * exit loses none; then logs `shutdown_complete`.
 */
async function waitForRecords(metrics: ServingMetrics, logger: Logger): Promise<void> {
  const started = performance.now();
  while (metrics.requestsInFlight() > 0 && performance.now() - started < RECORDS_WAIT_MILLISECONDS) await new Promise((resolve) => setTimeout(resolve, 10));
  logger.info('requests_recorded', { unrecorded: metrics.requestsInFlight() });
}

/**
 * Starts a server and serves until SIGTERM or SIGINT: then stops accepting, finishes what was accepted and exits 0
 * (a second signal gets the default action: exit at once). Resolves to an exit code only when it cannot serve:
 * 1 when a model is missing, a setting is wrong or a model fails to load. What `honnx serve` and a node artifact run.
 */
export async function serveUntilSignalled(start: () => Promise<RunningServer>): Promise<number> {
  // Heard from the first moment: a signal while the server is still starting ends it once it has started (a
  // default SIGTERM would kill it with 143 and no shutdown).
  let signalled: NodeJS.Signals | undefined;
  let onSignal: (signal: NodeJS.Signals) => void = (signal) => {
    signalled = signal;
  };
  const hear = (signal: NodeJS.Signals) => onSignal(signal);
  process.once('SIGTERM', hear);
  process.once('SIGINT', hear);
  stopWhenLauncherExits(() => hear('SIGTERM'));
  let running: RunningServer;
  try {
    running = await start();
  } catch (error) {
    if (error instanceof MissingModelsError || error instanceof PinnedVersionError || error instanceof ServerSettingsError || error instanceof CannotServeError) {
      console.error(`honnx cannot start:\n\n${error.message}`);
      return 1;
    }
    throw error;
  }
  const { logger } = running;
  // A stray rejection in one request's code must not take the whole server down with it.
  process.on('unhandledRejection', (reason) => logger.error('unhandled_rejection', describeError(reason)));
  logger.info('listening', { address: running.address.bound, url: running.url, message: `${formatListening(running.address)}, loading models...` });
  const shutdown = (signal: NodeJS.Signals) => {
    logger.info('signal', { signal });
    running.shutdown().then(
      () => exitOnceWritten(0),
      (error: unknown) => {
        logger.error('shutdown_failed', describeError(error));
        exitOnceWritten(1);
      },
    );
  };
  onSignal = shutdown;
  if (signalled) shutdown(signalled);
  // SIGHUP re-reads models/honnx.lock.json and swaps each function whose locked version is not the one serving.
  process.on('SIGHUP', () => {
    logger.info('signal', { signal: 'SIGHUP', message: 're-reading the lock file' });
    running.fleet.reloadLock().then(
      (results) => {
        for (const result of results) {
          if (result.error) logger.warn('swap_refused', { function: result.functionName, message: result.error });
        }
      },
      (error: unknown) => logger.error('reload_failed', describeError(error)),
    );
  });
  try {
    await running.ready;
    logger.info('ready', { url: running.url, message: `honnx ready on ${running.url}` });
  } catch (error) {
    console.error(`honnx: ${(error as Error).message}`);
    await running.close();
    return 1;
  }
  // Serve until a signal ends the process.
  return new Promise<number>(() => {});
}
