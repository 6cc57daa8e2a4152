import { formatBytes } from '../../models/format-units.ts';
import { readDecoderCacheShape } from './past-key-values.ts';

/** Memory the runtime itself needs beside the weights and the cache (ONNX Runtime's arenas, tokenizer, V8). */
const RUNTIME_ALLOWANCE_BYTES = 150 * 2 ** 20;

export interface GenerationMemoryInput {
  modelName: string;
  /** Bytes of the ONNX graph and its external data. */
  modelBytes: number;
  config: Record<string, unknown>;
  /** Bytes per cache element: 2 for fp16 and q4f16 exports, 4 otherwise. */
  cacheElementBytes: number;
  /** Tokens each sequence may hold: the function's prompt limit plus its new-token limit, within the model's context. */
  contextTokens: number;
  /** Most sequences the step loop decodes together. */
  maxRows: number;
  /** What this process may use: a configured budget, or the memory the system has available. */
  availableBytes: number;
  /** Logits of one prefill chunk, in bytes. */
  logitsBytes: number;
}

export interface GenerationMemoryPlan {
  /** Sequences decoded together: `maxRows`, or fewer where the cache of that many would not fit. */
  rows: number;
  bytesPerToken: number;
  neededBytes: number;
}

/** Key plus value, every layer, per token of one sequence. */
export function cacheBytesPerToken(config: Record<string, unknown>, elementBytes: number): number {
  const layers = typeof config.num_hidden_layers === 'number' ? config.num_hidden_layers : typeof config.n_layer === 'number' ? config.n_layer : 1;
  const { heads, headDimension } = readDecoderCacheShape(config);
  return layers * 2 * heads * headDimension * elementBytes;
}

/**
 * Checks at load that the weights and the key/value cache of `rows` sequences of `contextTokens` fit: a step reads
 * one cache block while it writes the next, so two are counted. Fewer rows are planned where all of them would not
 * fit; where not even one sequence at the full context fits, the model is refused with what would.
 */
export function planGenerationMemory(input: GenerationMemoryInput): GenerationMemoryPlan {
  const bytesPerToken = cacheBytesPerToken(input.config, input.cacheElementBytes);
  const fixed = input.modelBytes + input.logitsBytes + RUNTIME_ALLOWANCE_BYTES;
  const perRow = 2 * bytesPerToken * input.contextTokens;
  const fitting = Math.floor((input.availableBytes - fixed) / perRow);
  if (fitting < 1) {
    const contextThatFits = Math.floor((input.availableBytes - fixed) / (2 * bytesPerToken));
    const what =
      contextThatFits >= 16
        ? `a context of at most ${contextThatFits} tokens would fit (set the function's limits.maxInputTokens + maxNewTokens below it)`
        : 'a smaller model or a more quantized variant (q4) is needed';
    throw new Error(
      `model ${input.modelName} does not fit in memory: weights ${formatBytes(input.modelBytes)} + key/value cache ` +
        `${formatBytes(perRow)} for one sequence of ${input.contextTokens} tokens + ${formatBytes(input.logitsBytes + RUNTIME_ALLOWANCE_BYTES)} ` +
        `of run buffers, against ${formatBytes(input.availableBytes)} available (HONNX_MEMORY_BUDGET sets a budget); ${what}`,
    );
  }
  const rows = Math.min(input.maxRows, fitting);
  return { rows, bytesPerToken, neededBytes: fixed + rows * perRow };
}

/** HONNX_MEMORY_BUDGET ("8GB", "512MB" or bytes) where set, else what the host says is available; undefined off Node. */
export function readAvailableMemory(): number | undefined {
  const host = (globalThis as { process?: { env?: Record<string, string | undefined>; availableMemory?: () => number } }).process;
  const budget = host?.env?.HONNX_MEMORY_BUDGET?.trim();
  if (budget) {
    const match = /^(\d+(?:\.\d+)?)\s*(gb|gib|mb|mib|kb|kib|b)?$/i.exec(budget);
    if (!match) throw new Error(`HONNX_MEMORY_BUDGET must be a size such as 8GB or 512MB (got ${budget})`);
    const unit = (match[2] ?? 'b').toLowerCase();
    const scale = unit.startsWith('g') ? 2 ** 30 : unit.startsWith('m') ? 2 ** 20 : unit.startsWith('k') ? 2 ** 10 : 1;
    return Number(match[1]) * scale;
  }
  return host?.availableMemory?.();
}
