import { join } from 'node:path';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import { sendThrough, type SendRequest } from '../support/requests.ts';
import { mirrorFolder } from '../support/shared-models.ts';

export const projectRoot = join(import.meta.dirname, '../..');

/** The default functions (functions/*.ts) on the real models, their models on this thread, behind a fetch handler. */
export async function startDefaultFunctions(): Promise<{ send: SendRequest; limitsOf(name: string): Record<string, number> }> {
  const functions = await discoverFunctions(join(projectRoot, 'functions'));
  const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
  const { app, ready } = createNodeApp({ functions, engine: createNodeEngine({ threads: 1 }), searchPaths });
  await ready();
  const send = sendThrough(app.fetch);
  const limits = new Map<string, Record<string, number>>();
  for (const { name } of functions) limits.set(name, ((await (await send(`/${name}`)).json()) as { limits: Record<string, number> }).limits);
  return { send, limitsOf: (name) => limits.get(name)! };
}
