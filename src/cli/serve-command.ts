import { parseArgs } from 'node:util';
import { describeError } from '../http/logging/logger.ts';
import { ServerSettingsError } from '../http/settings/server-settings.ts';
import { MissingModelsError } from '../runtime/node/create-node-app.ts';
import { serveProject } from '../runtime/node/serve.ts';

export const SERVE_USAGE =
  '  honnx serve [--port N] [--host H] [--workers N] [--threads N]   serve every function in functions/ (PORT, HOST from the environment);\n' +
  '      --workers: worker threads per function running its model (default: one per core; 0: on the HTTP thread)';

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string' }, host: { type: 'string' }, threads: { type: 'string' }, workers: { type: 'string' } },
  });
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) {
    console.error(`honnx serve: --workers must be a whole number of threads, 0 or more (got ${values.workers})`);
    return 2;
  }
  try {
    const running = await serveProject({
      port: values.port === undefined ? undefined : Number(values.port),
      host: values.host,
      threads: values.threads === undefined ? undefined : Number(values.threads),
      workers,
    });
    const { logger } = running;
    // A stray rejection in one request's code must not take the whole server down with it.
    process.on('unhandledRejection', (reason) => logger.error('unhandled_rejection', describeError(reason)));
    logger.info('listening', { url: running.url, message: `honnx listening on ${running.url}, loading models...` });
    // Stop accepting, finish what was accepted, exit 0. A second signal gets the default action: exit at once.
    const shutdown = (signal: NodeJS.Signals) => {
      logger.info('signal', { signal });
      running.shutdown().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error('shutdown_failed', describeError(error));
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
    try {
      await running.ready;
      logger.info('ready', { url: running.url, message: `honnx ready on ${running.url}` });
    } catch (error) {
      console.error(`honnx: ${(error as Error).message}`);
      await running.close();
      return 1;
    }
    // Keep serving until a signal closes the server.
    await new Promise(() => {});
    return 0;
  } catch (error) {
    if (error instanceof MissingModelsError || error instanceof ServerSettingsError) {
      console.error(`honnx cannot start:\n\n${error.message}`);
      return 1;
    }
    throw error;
  }
}
