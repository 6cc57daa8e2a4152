import { serve } from '@hono/node-server';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HonnxFunction } from '../../src/http/define-function.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { readProjectSettings } from '../../src/runtime/node/serve.ts';
import { announceReady } from './announce-ready.ts';

/*
 * One real honnx function (functions/<name>.ts) served as `honnx serve` serves it: createNodeApp on the native
 * engine with 1 intra-op thread (serve's default), on @hono/node-server. Only that function is mounted, so the
 * server loads no other model and an unfinished sibling function cannot keep it from starting.
 * Usage: honnx.ts <function name>
 */

const [name] = process.argv.slice(2);
const projectRoot = join(import.meta.dirname, '../..');
const module = (await import(pathToFileURL(join(projectRoot, 'functions', `${name}.ts`)).href)) as { default: HonnxFunction };
const searchPaths = readModelSearchPaths(projectRoot, process.env, await readProjectSettings(projectRoot));
const { app, ready } = createNodeApp({ functions: [{ name, fn: module.default }], engine: createNodeEngine({ threads: 1 }), searchPaths });
await ready();
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => announceReady(`http://127.0.0.1:${info.port}/${name}`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
