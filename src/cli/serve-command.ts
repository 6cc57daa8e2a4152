import { parseArgs } from 'node:util';
import { serveUntilSignalled } from '../runtime/node/node-server.ts';
import { asksForHelp, readArgumentError } from './argument-errors.ts';
import { serveProject, type ServeOptions } from './serve-project.ts';

export const SERVE_USAGE =
  '  honnx serve [--port N] [--host H] [--workers N] [--threads N] [--function NAME]...\n' +
  '      serve the functions in functions/ (all by default; PORT, HOST from the environment);\n' +
  '      --workers: worker threads per function running its model (default: one per core; 0: on the HTTP thread)';

const readServeArgs = (args: string[]) =>
  parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      threads: { type: 'string' },
      workers: { type: 'string' },
      function: { type: 'string', multiple: true },
    },
  }).values;

/** `honnx serve`'s options from its arguments, or the message and exit code of a usage error. */
export function parseServeArgs(args: string[]): { options: ServeOptions } | { usage: string } | { error: string; code: number } {
  if (asksForHelp(args)) return { usage: `Usage:\n${SERVE_USAGE}` };
  let values;
  try {
    values = readServeArgs(args);
  } catch (error) {
    const message = readArgumentError(error);
    if (message === undefined) throw error;
    return { error: `honnx serve: ${message}\n\nUsage:\n${SERVE_USAGE}`, code: 2 };
  }
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) {
    return { error: `honnx serve: --workers must be a whole number of threads, 0 or more (got ${values.workers})`, code: 2 };
  }
  return {
    options: {
      port: values.port === undefined ? undefined : Number(values.port),
      host: values.host,
      threads: values.threads === undefined ? undefined : Number(values.threads),
      workers,
      only: values.function,
    },
  };
}

/**
 * `honnx serve` from the project's sources, in this process (through tsx). bin/honnx.mjs runs a bundle of the
 * server instead where it can (serve-bundled.ts), and this where it cannot.
 */
export async function serveCommand(args: string[]): Promise<number> {
  const parsed = parseServeArgs(args);
  if ('usage' in parsed) {
    console.log(parsed.usage);
    return 0;
  }
  if ('error' in parsed) {
    console.error(parsed.error);
    return parsed.code;
  }
  return serveUntilSignalled(() => serveProject(parsed.options));
}
