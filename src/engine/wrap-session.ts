import type { EngineSession, Feeds, Tensor, ValueMetadata } from './engine.ts';

/** The part of an ONNX Runtime session (node or web, same API) that the adapters use. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly unknown[];
  readonly outputMetadata?: readonly unknown[];
  run(feeds: Record<string, unknown>, fetches?: readonly string[]): Promise<Record<string, unknown>>;
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
  { enqueue }: { enqueue?: CallQueue } = {},
): EngineSession {
  const run = async (feeds: Feeds, outputNames?: readonly string[]) => {
    const ortFeeds: Record<string, unknown> = {};
    // A previous run's output (a generation's key/value cache) is already the runtime's own tensor.
    for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = tensor instanceof TensorClass ? tensor : new TensorClass(tensor.type, tensor.data, tensor.dims);
    const results = await session.run(ortFeeds, outputNames);
    return results as Record<string, Tensor>;
  };
  return {
    executionProvider,
    inputs: readMetadata(session.inputNames, session.inputMetadata),
    outputs: readMetadata(session.outputNames, session.outputMetadata),
    run: (feeds, outputNames) => (enqueue ? enqueue(() => run(feeds, outputNames)) : run(feeds, outputNames)),
    release: () => (enqueue ? enqueue(() => session.release()) : session.release()),
  };
}
