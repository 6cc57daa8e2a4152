import { serve } from '@hono/node-server';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleWorkerEntries } from '../../src/build/node-bundle.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { defineFunction, type HonnxFunction } from '../../src/spec/define-function.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { readProjectSettings } from '../../src/cli/serve-project.ts';
import { announceReady } from '../servers/announce-ready.ts';

/*
 * One real honnx function (functions/<name>.ts) served as `honnx serve --workers N` serves it, with its batching
 * left as the function sets it (`default`), forced off (`off`), or on with a batch size (`on:16`).
 * Usage: server.ts <function name> <workers> <default | off | on:<max batch size>>
 */

const [name, workers, batching] = process.argv.slice(2);
const projectRoot = join(import.meta.dirname, '../..');
const file = join(projectRoot, 'functions', `${name}.ts`);
const module = (await import(pathToFileURL(file).href)) as { default: HonnxFunction };
const definition = { ...module.default.definition };
if (batching === 'off') definition.batching = false;
else if (batching?.startsWith('on:')) definition.batching = { ...(definition.batching || {}), maxBatchSize: Number(batching.slice(3)) };
const fn = defineFunction(definition);
const searchPaths = readModelSearchPaths(projectRoot, process.env, await readProjectSettings(projectRoot));
// Threads start from a bundled entry, as honnx serve's do (no TypeScript loader in them).
const bundles = Number(workers) > 0 ? await bundleWorkerEntries(projectRoot, [{ name, file }], join(projectRoot, '.cache/honnx-serve')) : undefined;
const { app, ready, release } = createNodeApp({
  // Worker threads import the function's file for its task; batching is decided on this thread, from `fn`.
  functions: [{ name, fn, file }],
  engine: createNodeEngine({ threads: 1 }),
  searchPaths,
  workerThreads: { count: Number(workers), bundles },
});
await ready();
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => announceReady(`http://127.0.0.1:${info.port}/${name}`));
process.once('SIGTERM', () => server.close(() => void release().then(() => process.exit(0))));
