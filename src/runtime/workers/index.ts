// The Workers runtime entry: onnxruntime-web on precompiled WASM, models from the bundle, R2 or static assets.
export { createWorker } from './create-worker.ts';
export type { CreateWorkerOptions, HonnxWorker, WorkerExecutionContext, WorkerFunction } from './create-worker.ts';
export { createWorkersEngine } from './workers-engine.ts';
export type { WorkersEngine, WorkersEngineOptions } from './workers-engine.ts';
export { openModelFiles } from './model-source.ts';
export type { ModelSource, WorkerBindings } from './model-source.ts';
export { createBundledModelFiles } from './bundled-model-files.ts';
export { createR2ModelFiles } from './r2-model-files.ts';
export type { R2BucketLike } from './r2-model-files.ts';
export { createFetcherModelFiles } from './fetcher-model-files.ts';
export type { FetcherLike, FetcherModelFilesOptions } from './fetcher-model-files.ts';
export type { OnnxRuntimeWebModule } from '../../engine/onnxruntime-web.ts';
