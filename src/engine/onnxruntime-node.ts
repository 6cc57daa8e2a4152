import * as ort from 'onnxruntime-node';
import type { Engine, SessionOptions } from './engine.ts';
import { wrapSession, type OrtSessionLike } from './wrap-session.ts';

/** Options of the native engine. */
export interface NodeEngineOptions {
  /** Default intra-op threads for every session; 1 gives the steadiest latency on small models. */
  threads?: number;
}

/** The native engine: onnxruntime-node on the CPU execution provider. */
export function createNodeEngine(engineOptions: NodeEngineOptions = {}): Engine {
  return {
    name: 'onnxruntime-node',
    acceptsPaths: true,
    async createSession(model, options: SessionOptions = {}) {
      const threads = options.threads ?? engineOptions.threads;
      const sessionOptions: ort.InferenceSession.SessionOptions = {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        // onnxruntime-node throws on `intraOpNumThreads: undefined`, so the key is set only with a value.
        ...(threads === undefined ? {} : { intraOpNumThreads: threads, interOpNumThreads: 1 }),
      };
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      // onnxruntime-node 1.30 does write outputs into tensors passed as fetches, but then returns each as a fresh copy
      // (a new ArrayBuffer), so preallocating adds a copy and the GC work it was meant to save (measured with
      // bench/slm/allocation.ts: 20 collections, 7 of them major, against 9 minor over 100 steps). Outputs are left to
      // the engine (`writesIntoOutputs` false) until the binding hands back the caller's buffer; `RunOptions.outputs` still works.
      return wrapSession(session as unknown as OrtSessionLike, ort.Tensor as never, 'cpu', { acceptsOutputs: true });
    },
  };
}
