import type { ShippedModel } from './model-files-to-ship.ts';

export const MEGABYTE = 1_000_000;
const MEBIBYTE = 1 << 20;

/** Cloudflare Workers limits (2026): memory per isolate and uncompressed upload per Worker. */
export const WORKERS_LIMITS = {
  memoryBytes: 128 * MEGABYTE,
  uploadBytes: 64 * MEBIBYTE,
  /** Largest single static asset. */
  assetFileBytes: 25 * MEBIBYTE,
} as const;

/**
 * Terms of the peak-memory estimate. Calibrated on onnxruntime-web 1.30 (wasm, one thread): the WASM heap
 * starts at 16.8 MB and, after a session is created, holds 1.0-2.6× the graph's size on top of that
 * (six models from 0.6 to 10.5 MB); a batch of 64 × 128 tokens through a 4-layer BERT adds 35-52 MB.
 */
export const MEMORY_MODEL = {
  /** WASM heap before any session. */
  wasmBaseBytes: 16.8 * MEGABYTE,
  /** ORT's copy of the graph bytes, its initializers and arena growth, per byte of graph. */
  wasmPerGraphByte: 2.5,
  /** Activations of a request at the function's limits, and the heap growth they cause. */
  workingBytes: 24 * MEGABYTE,
  /** The worker script, tokenizer tables and JavaScript heap. */
  runtimeBytes: 16 * MEGABYTE,
} as const;

export interface MemoryEstimate {
  /** Model files as JavaScript holds them while the session is created (a Data module stays resident). */
  modelBytes: number;
  /** ONNX Runtime's WASM heap: base plus its copy of the graph. */
  wasmBytes: number;
  workingBytes: number;
  runtimeBytes: number;
  totalBytes: number;
}

export function estimateWorkersMemory(model: ShippedModel): MemoryEstimate {
  const wasmBytes = MEMORY_MODEL.wasmBaseBytes + MEMORY_MODEL.wasmPerGraphByte * model.graphBytes;
  const totalBytes = model.totalBytes + wasmBytes + MEMORY_MODEL.workingBytes + MEMORY_MODEL.runtimeBytes;
  return { modelBytes: model.totalBytes, wasmBytes, workingBytes: MEMORY_MODEL.workingBytes, runtimeBytes: MEMORY_MODEL.runtimeBytes, totalBytes };
}

/** The largest graph that fits an isolate, given the model's other files. */
export function largestFittingGraphBytes(model: ShippedModel): number {
  const fixed = model.totalBytes - model.graphBytes + MEMORY_MODEL.wasmBaseBytes + MEMORY_MODEL.workingBytes + MEMORY_MODEL.runtimeBytes;
  return Math.max(0, (WORKERS_LIMITS.memoryBytes - fixed) / (1 + MEMORY_MODEL.wasmPerGraphByte));
}

export const formatMegabytes = (bytes: number): string => `${(bytes / MEGABYTE).toFixed(1)} MB`;

/** Why a function cannot run in a Workers isolate, and what to do; undefined when it fits. */
export function explainWorkersMemoryRefusal(functionName: string, model: ShippedModel, estimate: MemoryEstimate): string | undefined {
  const over = estimate.totalBytes - WORKERS_LIMITS.memoryBytes;
  if (over <= 0) return undefined;
  const fitting = largestFittingGraphBytes(model);
  return [
    `function ${functionName}: model ${model.name} (${model.variant}, ${formatMegabytes(model.graphBytes)} of graphs) needs about ` +
      `${formatMegabytes(estimate.totalBytes)} in a Workers isolate, ${formatMegabytes(over)} over the ${formatMegabytes(WORKERS_LIMITS.memoryBytes)} limit ` +
      `(model ${formatMegabytes(estimate.modelBytes)} + ONNX Runtime's WASM copy ${formatMegabytes(estimate.wasmBytes)} + ` +
      `working memory ${formatMegabytes(estimate.workingBytes)} + runtime ${formatMegabytes(estimate.runtimeBytes)}).`,
    `  Graphs up to about ${formatMegabytes(fitting)} fit. Either:`,
    `  - use a smaller quantization of the model (variant "int8" or "q8" is about a quarter of fp32, "q4" about an eighth), or`,
    `  - serve this function with the node target (npx honnx build --target node).`,
  ].join('\n');
}
