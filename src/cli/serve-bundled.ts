import { serveUntilSignalled, startNodeServer } from '../runtime/node/node-server.ts';
import type { NamedFunction } from '../runtime/node/discover-functions.ts';
import { parseServeArgs } from './serve-command.ts';

/**
 * `honnx serve` as a bundle of the server with the project's functions built in (bundle-serve.ts makes it): the
 * bundle's `run`. It serves those functions with their worker threads started from `workerBundles`.
 */
export async function serveBundled(args: string[], functions: NamedFunction[], workerBundles: ReadonlyMap<string, string>): Promise<number> {
  const parsed = parseServeArgs(args);
  if ('usage' in parsed) {
    console.log(parsed.usage);
    return 0;
  }
  if ('error' in parsed) {
    console.error(parsed.error);
    return parsed.code;
  }
  return serveUntilSignalled(() => startNodeServer({ ...parsed.options, functions, projectRoot: process.cwd(), workerBundles }));
}
