import { parseArgs } from 'node:util';
import { MissingModelsError } from '../runtime/node/create-node-app.ts';
import { serveProject } from '../runtime/node/serve.ts';

export const SERVE_USAGE = '  honnx serve [--port N] [--host H] [--threads N]   serve every function in functions/ (PORT, HOST from the environment)';

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string' }, host: { type: 'string' }, threads: { type: 'string' } },
  });
  try {
    const running = await serveProject({
      port: values.port === undefined ? undefined : Number(values.port),
      host: values.host,
      threads: values.threads === undefined ? undefined : Number(values.threads),
    });
    // A stray rejection in one request's code must not take the whole server down with it.
    process.on('unhandledRejection', (reason) => console.error('honnx: unhandled rejection:', reason));
    console.log(`honnx listening on ${running.url}, loading models...`);
    const shutdown = () => void running.close().then(() => process.exit(0));
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
    try {
      await running.ready;
      console.log(`honnx ready on ${running.url}`);
    } catch (error) {
      console.error(`honnx: ${(error as Error).message}`);
      await running.close();
      return 1;
    }
    // Keep serving until a signal closes the server.
    await new Promise(() => {});
    return 0;
  } catch (error) {
    if (error instanceof MissingModelsError) {
      console.error(`honnx cannot start:\n\n${error.message}`);
      return 1;
    }
    throw error;
  }
}
