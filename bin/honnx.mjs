#!/usr/bin/env node
// The honnx command. Its source is TypeScript, loaded through tsx so a checkout needs no build step.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);

/**
 * `honnx serve` runs a bundle of the server instead (src/cli/bundle-serve.ts makes it in a child process), so that
 * the serving process loads no TypeScript loader; from sources (HONNX_SERVE_FROM_SOURCES=1, or when bundling fails).
 */
async function serveFromBundle() {
  if ((args[0] ?? 'serve') !== 'serve' || process.env.HONNX_SERVE_FROM_SOURCES === '1') return undefined;
  const runTs = fileURLToPath(new URL('./run-ts.mjs', import.meta.url));
  const script = fileURLToPath(new URL('../src/cli/bundle-serve.ts', import.meta.url));
  const bundled = spawnSync(process.execPath, [runTs, script, ...args.slice(1)], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (bundled.status !== 0) return undefined;
  const { server, workers } = JSON.parse(bundled.stdout.trim().split('\n').at(-1));
  const { run } = await import(pathToFileURL(server).href);
  stopExitingEarly();
  return run(args.slice(1), workers);
}

// Until the server installs its own handlers, a signal while it bundles (a blocking child process) ends the command
// cleanly: nothing is served yet, so there is nothing to drain (the default action would exit 143).
const exitEarly = () => process.exit(0);
process.once('SIGTERM', exitEarly);
process.once('SIGINT', exitEarly);
const stopExitingEarly = () => {
  process.off('SIGTERM', exitEarly);
  process.off('SIGINT', exitEarly);
};

const served = await serveFromBundle();
if (served !== undefined) process.exitCode = served;
else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli/main.ts');
  stopExitingEarly();
  process.exitCode = await main(args);
}
