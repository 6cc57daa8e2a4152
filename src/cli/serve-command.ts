import { parseArgs } from 'node:util';
import { serveUntilSignalled } from '../runtime/node/node-server.ts';
import { serveProject } from '../runtime/node/serve.ts';

export const SERVE_USAGE =
  '  honnx serve [--port N] [--host H] [--workers N] [--threads N] [--function NAME]...\n' +
  '      serve the functions in functions/ (all by default; PORT, HOST from the environment);\n' +
  '      --workers: worker threads per function running its model (default: one per core; 0: on the HTTP thread)';

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      threads: { type: 'string' },
      workers: { type: 'string' },
      function: { type: 'string', multiple: true },
    },
  });
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) {
    console.error(`honnx serve: --workers must be a whole number of threads, 0 or more (got ${values.workers})`);
    return 2;
  }
  return serveUntilSignalled(() =>
    serveProject({
      port: values.port === undefined ? undefined : Number(values.port),
      host: values.host,
      threads: values.threads === undefined ? undefined : Number(values.threads),
      workers,
      only: values.function,
    }),
  );
}
