import { join } from 'node:path';
import { bundleServer } from '../build/node-bundle.ts';
import { selectFunctions } from './serve-project.ts';
import { parseServeArgs } from './serve-command.ts';

/*
 * `honnx serve` without tsx in the serving process: bin/honnx.mjs runs this script in a short-lived child process
 * (through tsx) with serve's arguments. It bundles the server with the project's functions built in, and one worker
 * entry per function, into .cache/honnx-serve, and prints {"server": path, "workers": {function: path}} on stdout;
 * bin/honnx.mjs then imports the server bundle and calls its `run` (serve-bundled.ts). The serving process thus holds
 * no TypeScript loader: no loader thread, no compiled sources of what the functions do not use (~40 MB of RSS).
 * Exits 1 (bin/honnx.mjs then serves from sources, which reports the problem) when it cannot.
 */

try {
  const parsed = parseServeArgs(process.argv.slice(2));
  // A usage request or error is answered by the sources' serve command, which prints it.
  if (!('options' in parsed)) throw new Error('usage');
  const projectRoot = process.cwd();
  const functions = await selectFunctions(join(projectRoot, 'functions'), parsed.options.only);
  const bundles = await bundleServer(
    projectRoot,
    functions.map(({ name, file }) => ({ name, file: file! })),
    join(projectRoot, '.cache', 'honnx-serve'),
  );
  console.log(JSON.stringify(bundles));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
