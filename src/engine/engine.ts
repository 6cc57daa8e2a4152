/**
 * The engine seam. Task code talks only to these types; each runtime entry wires one implementation
 * (onnxruntime-node natively, onnxruntime-web on WASM or WebGPU). Nothing here imports an ONNX Runtime.
 */

export type TensorType = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

/** The typed arrays a tensor's elements may be held in. */
export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

/** A dense tensor. Engines accept and return this shape, so tasks never see a runtime's own tensor class. */
export interface Tensor {
  readonly type: TensorType;
  readonly data: TensorData;
  readonly dims: readonly number[];
  /**
   * Frees what the engine holds for a tensor it returned (device memory, a runtime handle). Engines that hand back
   * host memory may leave it out; callers that are done with an output call it where present.
   */
  dispose?(): void;
}

/** A model run's inputs or outputs, by name. */
export type Feeds = Record<string, Tensor>;

/** A dimension is a number when fixed and a name (for example "batch_size") when dynamic. */
export type Dimension = number | string;

/** One input or output of a session: its name, element type and shape. */
export interface ValueMetadata {
  readonly name: string;
  readonly type: TensorType | string;
  readonly shape: readonly Dimension[];
}

/** Options of one session run: outputs written into buffers the caller owns. */
export interface RunOptions {
  /**
   * Outputs to write into buffers the caller owns, by output name, with their exact dims: the run fills their `data`
   * in place and returns these tensors for those names. onnxruntime-node honours it (the WASM engine ignores it);
   * the caller must know each output's shape before the run.
   */
  outputs?: Readonly<Record<string, Tensor>>;
}

/** An open ONNX session: its inputs and outputs, and `run`. */
export interface InferenceSession {
  readonly inputs: readonly ValueMetadata[];
  readonly outputs: readonly ValueMetadata[];
  /**
   * Whether `run` writes into the caller's output buffers (`RunOptions.outputs`) and returns them, saving the engine's
   * own allocation. Neither engine does today: onnxruntime-node 1.30 writes into them and then returns a fresh copy.
   */
  readonly writesIntoOutputs?: boolean;
  /**
   * True when a run of several rows, each of more than one token, over a non-empty cache is refused, so callers run
   * such rows one at a time: ONNX Runtime's CPU GroupQueryAttention (put in at load, `SessionOptions.groupQueryAttention`)
   * takes one row when a chunk of tokens follows a cache. Single-token steps of many rows are fine.
   */
  readonly rowsRunAloneOverCache?: boolean;
  run(feeds: Feeds, outputNames?: readonly string[], options?: RunOptions): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

/** How an engine opens a session: threads and execution providers. */
export interface SessionOptions {
  /** Intra-op threads. Left unset, the engine's default applies. */
  threads?: number;
  /** Preferred execution providers in order, for example ["webgpu", "wasm"]; the engine falls back along the list. */
  executionProviders?: readonly string[];
  /**
   * onnxruntime-node: MatMulNBits whose accuracy_level is unset or 0 compute with int8 activations (level 4), set at
   * load; the engine's default (off, `HONNX_INT8_MATMUL`) applies when unset. The WASM engine serves graphs as exported.
   */
  int8MatMul?: boolean;
  /**
   * onnxruntime-node: a causal LM without a `logits_to_keep` input (optimum's exports) gets one, required, at load,
   * so that a prefill computes the last position's logits only. For callers that feed it (the generate task's
   * decoder); the WASM engine serves graphs as exported.
   */
  logitsToKeep?: boolean;
  /**
   * onnxruntime-node: an optimum causal LM's attention (the cache Concat, the grouped-head repeat, MatMul / Softmax /
   * MatMul) becomes one com.microsoft GroupQueryAttention a layer, at load, where every layer matches that pattern
   * (float32 caches); otherwise the graph is served as exported. `HONNX_GROUP_QUERY_ATTENTION=0` turns it off. For the
   * generate task's decoder; the WASM engine serves graphs as exported.
   */
  groupQueryAttention?: boolean;
}

/** Where a model's bytes come from: a path on disk (native engines map it) or the bytes themselves. */
export type ModelInput = string | Uint8Array;

/** The engine seam: opens ONNX sessions from model bytes or a path (onnxruntime-node, onnxruntime-web). */
export interface Engine {
  /** The runtime package, for example "onnxruntime-node". */
  readonly name: string;
  /** True when the engine maps a model file by path itself (native); false when it needs the bytes (WASM). */
  readonly acceptsPaths: boolean;
  createSession(model: ModelInput, options?: SessionOptions): Promise<EngineSession>;
}

/** A session plus the execution provider the engine actually chose, which `GET /<function>` reports. */
export interface EngineSession extends InferenceSession {
  readonly executionProvider: string;
}
