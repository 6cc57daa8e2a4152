import * as ort from 'onnxruntime-node';
import type { Engine, SessionOptions } from './engine.ts';
import { readGroupQueryAttentionSetting, readInt8MatMulSetting } from './rewrite-settings.ts';
import { rewriteGraph, type GraphRewrites, type RewrittenGraph } from './rewrite-graph.ts';
import { wrapSession, type OrtSessionLike } from './wrap-session.ts';

/** Options of the native engine. */
export interface NodeEngineOptions {
  /** Default intra-op threads for every session; 1 gives the steadiest latency on small models. */
  threads?: number;
  /**
   * MatMulNBits nodes whose accuracy_level is unset or 0 compute with int8 activations (accuracy_level 4, as llama.cpp
   * computes Q4_0), set at load in a rewritten copy of the graph held in memory. Off unless `HONNX_INT8_MATMUL=1` or
   * `true` here: it decodes faster, but agrees less often with llama.cpp on near-ties (docs/decisions.md). A session's
   * own `int8MatMul` wins.
   */
  int8MatMul?: boolean;
}

/**
 * The rewritten graph, or undefined to open the file as it is. A file the outline reader cannot walk is no valid
 * ONNX file; opening it as it is lets ONNX Runtime say what is wrong with it, in its own words.
 */
function readRewrittenGraph(path: string, rewrites: GraphRewrites): RewrittenGraph | undefined {
  try {
    return rewriteGraph(path, rewrites);
  } catch {
    return undefined;
  }
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
      const int8MatMul = options.int8MatMul ?? engineOptions.int8MatMul ?? readInt8MatMulSetting();
      // A path is rewritten from its structure alone; bytes handed over whole are served as they are (on Node,
      // model folders open by path).
      const rewritten = typeof model === 'string' ? readRewrittenGraph(model, { int8MatMul, logitsToKeep: options.logitsToKeep, groupQueryAttention: options.groupQueryAttention === true && readGroupQueryAttentionSetting() }) : undefined;
      // The engine has no logger of its own; a decoder whose attention stays as exported is worth one line at load.
      if (rewritten?.groupQueryAttentionRefused) console.warn(`honnx: ${model}: attention left as exported, no GroupQueryAttention (${rewritten.groupQueryAttentionRefused})`);
      const session = rewritten
        ? await ort.InferenceSession.create(rewritten.bytes, {
            ...sessionOptions,
            // The rewritten graph's initializers name the original file (and its `_data` file) in this folder.
            extra: { session: { model_external_initializers_file_folder_path: rewritten.externalDataFolder } },
          })
        : typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      // onnxruntime-node 1.30 does write outputs into tensors passed as fetches, but then returns each as a fresh copy
      // (a new ArrayBuffer), so preallocating adds a copy and the GC work it was meant to save (measured with
      // bench/slm/allocation.ts: 20 collections, 7 of them major, against 9 minor over 100 steps). Outputs are left to
      // the engine (`writesIntoOutputs` false) until the binding hands back the caller's buffer; `RunOptions.outputs` still works.
      const wrapped = wrapSession(session as unknown as OrtSessionLike, ort.Tensor as never, 'cpu', { acceptsOutputs: true });
      return rewritten?.groupQueryAttentionLayers ? { ...wrapped, rowsRunAloneOverCache: true } : wrapped;
    },
  };
}
