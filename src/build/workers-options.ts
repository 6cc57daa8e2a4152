import type { FunctionDefinition } from '../http/define-function.ts';

export type ModelDelivery = 'bundle' | 'assets' | 'r2';

/**
 * A function's Workers options, read from its definition's `workers` field:
 * `defineFunction({ ..., workers: { model: 'r2', bucket: 'my-models' } })`.
 */
export interface WorkersFunctionOptions {
  /** Where the worker reads the model: bundled into the upload (default when it fits), static assets, or R2. */
  model?: ModelDelivery;
  /** R2 bucket name for `model: 'r2'`; `honnx-models` by default. */
  bucket?: string;
}

export function readWorkersOptions(definition: FunctionDefinition): WorkersFunctionOptions {
  return (definition as FunctionDefinition & { workers?: WorkersFunctionOptions }).workers ?? {};
}
