import type { ModelFiles } from '../../models/model-files.ts';
import { createBundledModelFiles } from './bundled-model-files.ts';
import { createFetcherModelFiles, type FetcherLike } from './fetcher-model-files.ts';
import { createR2ModelFiles, type R2BucketLike } from './r2-model-files.ts';

/** How a worker gets a function's model. `honnx build` picks one per function and writes the matching wrangler.toml. */
export type ModelSource =
  /** Bundled into the upload as Data modules, keyed by path in the model folder. */
  | { from: 'bundle'; files: Record<string, ArrayBuffer | Uint8Array> }
  /** An R2 bucket binding holding the folder under `prefix` (the model's name by default). */
  | { from: 'r2'; binding: string; prefix?: string }
  /** Static assets (or any service binding) serving the folder at `prefix` (`/models/<name>` by default). */
  | { from: 'assets'; binding?: string; prefix?: string };

/** A worker's environment: its bindings (R2 buckets, assets, secrets, vars) by name. */
export type WorkerBindings = Record<string, unknown>;

function requireBinding<T>(env: WorkerBindings, binding: string, what: string): T {
  const value = env[binding];
  if (value === undefined || value === null) throw new Error(`the worker has no ${what} binding named ${binding}; add it to wrangler.toml`);
  return value as T;
}

/** Opens a model's files from this isolate's bindings. Nothing is read until the model loads. */
export function openModelFiles(name: string, source: ModelSource, env: WorkerBindings): ModelFiles {
  switch (source.from) {
    case 'bundle':
      return createBundledModelFiles(name, source.files);
    case 'r2':
      return createR2ModelFiles(requireBinding<R2BucketLike>(env, source.binding, 'R2 bucket'), name, {
        prefix: source.prefix,
        bindingName: source.binding,
      });
    case 'assets': {
      const binding = source.binding ?? 'ASSETS';
      return createFetcherModelFiles(requireBinding<FetcherLike>(env, binding, 'assets'), name, { prefix: source.prefix, bindingName: binding });
    }
  }
}
