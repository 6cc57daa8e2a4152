import { join } from 'node:path';
import type { Engine } from '../../src/engine/engine.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import type { HonnxFunction } from '../../src/spec/define-function.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { mirrorFolder } from '../mirror.ts';

export type NodeEngineName = 'node native' | 'node WASM';

/** The engine a Node process would use: onnxruntime-node with one thread, or onnxruntime-web's WASM. */
export async function createBenchEngine(name: NodeEngineName): Promise<Engine> {
  if (name === 'node native') {
    const { createNodeEngine } = await import('../../src/engine/onnxruntime-node.ts');
    return createNodeEngine({ threads: 1 });
  }
  const [{ createWebEngine }, ort, { readFile }] = await Promise.all([import('../../src/engine/onnxruntime-web.ts'), import('onnxruntime-web'), import('node:fs/promises')]);
  return createWebEngine({ ort, readModel: async (path) => new Uint8Array(await readFile(path)) });
}

/** An engine whose sessions add up the milliseconds they spend running, as the worker's `ort` Server-Timing does. */
export function timeRuns(engine: Engine): { engine: Engine; runMilliseconds: () => number } {
  let total = 0;
  return {
    runMilliseconds: () => total,
    engine: {
      name: engine.name,
      acceptsPaths: engine.acceptsPaths,
      async createSession(model, options) {
        const session = await engine.createSession(model, options);
        return {
          executionProvider: session.executionProvider,
          inputs: session.inputs,
          outputs: session.outputs,
          release: () => session.release(),
          async run(feeds, outputNames) {
            const started = performance.now();
            try {
              return await session.run(feeds, outputNames);
            } finally {
              total += performance.now() - started;
            }
          },
        };
      },
    },
  };
}

/**
 * The classify function's app in this process, loaded and warmed, exactly as a server would hold it; timing
 * its `fetch` measures what Server-Timing measures inside a worker.
 */
export async function createLoadedApp(fn: HonnxFunction, engine: Engine): Promise<(request: Request) => Promise<Response>> {
  const host = createFunctionHost('classify', fn.definition, (definition) =>
    loadModelBundle(createFolderModelFiles(join(mirrorFolder, definition.model), definition.model), engine, { variant: definition.variant }),
  );
  await host.load();
  const app = createHonnxApp({ functions: [{ fn, host }] });
  return async (request) => app.fetch(request);
}
