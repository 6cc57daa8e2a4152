import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import type { SendRequest } from '../support/requests.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { transports } from '../support/transports.ts';
import { functionHttpCases } from './functions.case.ts';

const projectRoot = join(import.meta.dirname, '../..');

// The shared HTTP cases (./functions.case.ts) on Node, as `npm start` serves functions/; workerd runs the same
// cases in test/workers/worker-http.workerd.test.ts.
describe.each(transports)('default functions over HTTP ($name)', (transport) => {
  let started: { send: SendRequest; stop(): Promise<void> } | undefined;

  beforeAll(async () => {
    const functions = await discoverFunctions(join(projectRoot, 'functions'));
    const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
    const { app, ready } = createNodeApp({ functions, engine: createNodeEngine({ threads: 1 }), searchPaths });
    await ready();
    started = await transport.start(app.fetch);
  });
  afterAll(() => started?.stop());

  functionHttpCases({
    send: (path, init) => started!.send(path, init),
    readSharedText: (path) => readFile(join(mirrorFolder, path), 'utf8'),
    engine: { name: 'onnxruntime-node', executionProvider: 'cpu' },
  });
});
