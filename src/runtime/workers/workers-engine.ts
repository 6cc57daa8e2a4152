import type { Engine } from '../../engine/engine.ts';
import { createWebEngine, type OnnxRuntimeWebModule } from '../../engine/onnxruntime-web.ts';
import { usePrecompiledWasm } from './precompiled-wasm.ts';

/** The onnxruntime-web build and its precompiled WASM module for the Workers engine. */
export interface WorkersEngineOptions {
  /** `onnxruntime-web/wasm`, or `onnxruntime-web/webgpu` for a function that allows WebGPU. */
  ort: OnnxRuntimeWebModule;
  /** The build's `.wasm`, imported as a module so that Workers compile it at upload. */
  wasmModule: WebAssembly.Module;
  /** Default execution providers, in order; WebGPU is skipped where `navigator.gpu` is absent. */
  executionProviders?: readonly string[];
}

/** Adds up the time spent in session runs, which the worker reports in its Server-Timing header. */
function timeRuns(engine: Engine): WorkersEngine {
  let runMilliseconds = 0;
  return {
    runMilliseconds: () => runMilliseconds,
    name: engine.name,
    acceptsPaths: engine.acceptsPaths,
    async createSession(model, options) {
      const session = await engine.createSession(model, options);
      return {
        ...session,
        run: async (feeds, outputNames, runOptions) => {
          const started = performance.now();
          try {
            return await session.run(feeds, outputNames, runOptions);
          } finally {
            runMilliseconds += performance.now() - started;
          }
        },
      };
    },
  };
}

/** The WASM engine on Workers, counting time spent in runs. */
export interface WorkersEngine extends Engine {
  /** Milliseconds spent in session runs so far, for the worker's Server-Timing header. */
  runMilliseconds(): number;
}

/** onnxruntime-web wired for workerd: precompiled WASM, one thread, no proxy worker. */
export function createWorkersEngine({ ort, wasmModule, executionProviders }: WorkersEngineOptions): WorkersEngine {
  usePrecompiledWasm(ort.env.wasm as { wasmBinary?: ArrayBufferLike | Uint8Array }, wasmModule);
  return timeRuns(createWebEngine({ ort, executionProviders }));
}
