import type * as OnnxRuntimeWeb from 'onnxruntime-web';
import type { Engine, ModelInput, SessionOptions } from './engine.ts';
import { createCallQueue, wrapSession, type CallQueue, type OrtSessionLike } from './wrap-session.ts';

/**
 * The onnxruntime-web module to use. The runtime entry picks the build: `onnxruntime-web` in Node,
 * `onnxruntime-web/wasm` in Workers (glue embedded, no run-time WASM compile), `onnxruntime-web/webgpu` for GPUs.
 */
export type OnnxRuntimeWebModule = typeof OnnxRuntimeWeb;

export interface WebEngineOptions {
  ort: OnnxRuntimeWebModule;
  /** Execution providers to try in order. WebGPU is tried only where the host exposes `navigator.gpu`. */
  executionProviders?: readonly string[];
  /** Reads a model path into bytes; WASM cannot map files, and Workers have no file system. */
  readModel?: (path: string) => Promise<Uint8Array>;
}

function hasWebGpu(): boolean {
  return typeof navigator !== 'undefined' && 'gpu' in navigator && Boolean((navigator as { gpu?: unknown }).gpu);
}

/** Keeps only the providers this host can run, in the caller's order, and always ends on WASM. */
export function chooseWebProviders(requested: readonly string[]): string[] {
  const usable = requested.filter((provider) => provider !== 'webgpu' || hasWebGpu());
  return usable.includes('wasm') ? usable : [...usable, 'wasm'];
}

/**
 * One WASM instance serves every session made from an ORT module, and its calls must not overlap: two first
 * sessions created together both initialise the backend ("multiple calls to 'initWasm()'"), and runs of two
 * sessions interleave on the WASM stack across their awaits ("output name cannot be empty"). So every call
 * into one module goes through one queue, shared by all engines made from that module.
 */
const queues = new WeakMap<object, CallQueue>();

function queueFor(ort: OnnxRuntimeWebModule): CallQueue {
  let queue = queues.get(ort.env);
  if (!queue) queues.set(ort.env, (queue = createCallQueue()));
  return queue;
}

/** The portable engine: onnxruntime-web on WASM, with WebGPU where the host has one. */
export function createWebEngine(engineOptions: WebEngineOptions): Engine {
  const { ort } = engineOptions;
  const enqueue = queueFor(ort);
  // Workers and most edge hosts have no threads; a single thread also keeps the proxy worker out.
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const readModel = async (model: ModelInput) => {
    if (typeof model !== 'string') return model;
    if (!engineOptions.readModel) throw new Error('the WASM engine needs model bytes, or a readModel option to read a path');
    return engineOptions.readModel(model);
  };
  return {
    name: 'onnxruntime-web',
    acceptsPaths: false,
    async createSession(model, options: SessionOptions = {}) {
      const bytes = await readModel(model);
      const providers = chooseWebProviders(options.executionProviders ?? engineOptions.executionProviders ?? ['wasm']);
      let lastError: unknown;
      for (const provider of providers) {
        try {
          const session = await enqueue(() =>
            ort.InferenceSession.create(bytes, { executionProviders: [provider], graphOptimizationLevel: 'all' }),
          );
          return wrapSession(session as unknown as OrtSessionLike, ort.Tensor as never, provider, { enqueue });
        } catch (error) {
          lastError = error;
        }
      }
      throw lastError;
    },
  };
}
