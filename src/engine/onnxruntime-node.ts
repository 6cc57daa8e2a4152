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
      // The native binding writes outputs into the buffers of tensors passed as fetches (measured: views included).
      return wrapSession(session as unknown as OrtSessionLike, ort.Tensor as never, 'cpu', { writesIntoOutputs: true });
    },
  };
}
