// The Node runtime entry: the native engine, models from folders, and the server.
export { createNodeEngine } from './engine/onnxruntime-node.ts';
export type { NodeEngineOptions } from './engine/onnxruntime-node.ts';
export { createFolderModelFiles } from './models/folder-model-files.ts';
export { ModelNotFoundError, readModelSearchPaths, resolveModel } from './models/resolve-model.ts';
export type { ModelSearchPaths, ProjectSettings, ResolvedModel } from './models/resolve-model.ts';
export { createNodeApp, MissingModelsError } from './runtime/node/create-node-app.ts';
export type { NodeAppOptions } from './runtime/node/create-node-app.ts';
export type { WorkerThreadOptions } from './runtime/node/worker-lanes.ts';
export { discoverFunctions } from './runtime/node/discover-functions.ts';
export type { NamedFunction } from './runtime/node/discover-functions.ts';
export type { ListenAddress } from './runtime/node/listen-address.ts';
export { serveProject } from './cli/serve-project.ts';
export type { RunningServer, ServeOptions } from './cli/serve-project.ts';
export type { FleetController, FleetControllerOptions } from './runtime/node/fleet-controller.ts';
export type { CanaryReport, SwappableHost, SwapReport, VersionSlot } from './serving/swappable-host.ts';
export type { LockedFile, LockEntry, ModelSource as LockedModelSource } from './models/lock/lock-file.ts';
export type { EvalScore } from './serving/eval-set.ts';
