import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import type { SendRequest } from '../support/requests.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { discoverTestFunctions } from '../support/test-functions.ts';
import { transports, type Transport } from '../support/transports.ts';
import { functionHttpCases } from './functions.case.ts';

const projectRoot = join(import.meta.dirname, '../..');

// The functions the cases run on: whatever discovery finds in functions/ (or HONNX_TEST_FUNCTIONS), as `npm start` does.
const { named, functions } = await discoverTestFunctions();

/** The HTTP thread's engine when models run on worker threads: it must never open a session. */
function createRefusingEngine(opened: string[]): Engine {
  return {
    name: 'onnxruntime-node',
    acceptsPaths: true,
    async createSession(model) {
      opened.push(String(model));
      throw new Error('the HTTP thread must not run inference when models run on worker threads');
    },
  };
}

interface Hosting {
  name: string;
  /** Worker threads per function; 0 runs the models on the thread answering HTTP. */
  workers: number;
  transports: Transport[];
}

// The same cases with the models on this thread (in-thread lanes), through both transports, and on one worker thread
// per function (worker-thread lanes, as `honnx serve` runs them), through a real server.
const hostings: Hosting[] = [
  { name: 'in-thread', workers: 0, transports },
  { name: 'worker-thread', workers: 1, transports: transports.filter((transport) => transport.name === 'node server') },
];

// The shared HTTP cases (./functions.case.ts) on Node; workerd runs the same cases in test/workers/worker-http.workerd.test.ts.
describe.each(hostings.flatMap((hosting) => hosting.transports.map((transport) => ({ hosting, transport }))))(
  'discovered functions over HTTP ($transport.name, $hosting.name lanes)',
  ({ hosting, transport }) => {
    let started: { send: SendRequest; stop(): Promise<void> } | undefined;
    let release: () => Promise<void> = async () => {};
    const sessionsOnHttpThread: string[] = [];

    beforeAll(async () => {
      const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
      const engine = hosting.workers > 0 ? createRefusingEngine(sessionsOnHttpThread) : createNodeEngine({ threads: 1 });
      const created = createNodeApp({ functions: named, engine, searchPaths, workerThreads: { count: hosting.workers } });
      release = created.release;
      await created.ready();
      started = await transport.start(created.app.fetch);
    });
    afterAll(async () => {
      await started?.stop();
      await release();
    });

    functionHttpCases({
      functions,
      send: (path, init) => started!.send(path, init),
      readSharedText: (path) => readFile(join(mirrorFolder, path), 'utf8'),
      engine: { name: 'onnxruntime-node', executionProvider: 'cpu' },
    });

    it.runIf(hosting.workers > 0)('ran every model on its worker threads, none on the HTTP thread', async () => {
      expect(sessionsOnHttpThread).toEqual([]);
      for (const fn of functions) {
        const info = (await (await started!.send(`/${fn.name}`)).json()) as { serving: { lanes: number } };
        expect(info.serving.lanes, fn.name).toBe(hosting.workers);
      }
    });
  },
);
