import type { EngineSession, Feeds, RunOptions, Tensor, ValueMetadata } from './engine.ts';

/** The part of an ONNX Runtime session (node or web, same API) that the adapters use. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly unknown[];
  readonly outputMetadata?: readonly unknown[];
  run(feeds: Record<string, unknown>, fetches?: readonly string[] | Record<string, unknown>): Promise<Record<string, unknown>>;
  release(): Promise<void>;
}

/** Runs calls one after another, in the order they were queued. */
export type CallQueue = <T>(call: () => Promise<T>) => Promise<T>;

export function createCallQueue(): CallQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return (call) => {
    const result = tail.then(call);
    tail = result.catch(() => undefined);
    return result;
  };
}

type TensorConstructor = new (type: Tensor['type'], data: Tensor['data'], dims: readonly number[]) => unknown;

function readMetadata(names: readonly string[], metadata: readonly unknown[] | undefined): ValueMetadata[] {
  return names.map((name, index) => {
    const entry = metadata?.[index] as { type?: string; shape?: (number | string)[] } | undefined;
    return { name, type: entry?.type ?? 'unknown', shape: entry?.shape ?? [] };
  });
}

/**
 * Adapts an onnxruntime-node or onnxruntime-web session to the engine seam. Both packages share
 * onnxruntime-common's API, so one adapter serves both; only the Tensor class differs.
 */
export function wrapSession(
  session: OrtSessionLike,
  TensorClass: TensorConstructor,
  executionProvider: string,
  { enqueue, acceptsOutputs = false }: { enqueue?: CallQueue; acceptsOutputs?: boolean } = {},
): EngineSession {
  // A previous run's output (a generation's key/value cache) is already the runtime's own tensor.
  const toOrt = (tensor: Tensor) => (tensor instanceof TensorClass ? tensor : new TensorClass(tensor.type, tensor.data, tensor.dims));
  const run = async (feeds: Feeds, outputNames?: readonly string[], options?: RunOptions) => {
    const ortFeeds: Record<string, unknown> = {};
    for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrt(tensor);
    const buffers = acceptsOutputs ? options?.outputs : undefined;
    if (!buffers) return (await session.run(ortFeeds, outputNames)) as Record<string, Tensor>;
    // onnxruntime-common's fetches object: a tensor to write into, or null to let the runtime allocate.
    const fetches: Record<string, unknown> = {};
    for (const name of outputNames ?? session.outputNames) fetches[name] = buffers[name] ? toOrt(buffers[name]) : null;
    const results = (await session.run(ortFeeds, fetches)) as Record<string, Tensor>;
    // The caller's own tensors stand for the outputs written into them (the runtime returns wrappers of its own).
    for (const name of Object.keys(buffers)) if (name in results) results[name] = buffers[name];
    return results;
  };
  return {
    executionProvider,
    // Even where the runtime writes into the caller's buffers, it returns copies: nothing is saved (see engine.ts).
    writesIntoOutputs: false,
    inputs: readMetadata(session.inputNames, session.inputMetadata),
    outputs: readMetadata(session.outputNames, session.outputMetadata),
    run: (feeds, outputNames, options) => (enqueue ? enqueue(() => run(feeds, outputNames, options)) : run(feeds, outputNames, options)),
    release: () => (enqueue ? enqueue(() => session.release()) : session.release()),
  };
}
