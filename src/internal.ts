// honnx's internals, for honnx's own tests and benchmarks (`honnx/internal`): no promise of stability, and not part of
// the public API (src/index.ts). Everything else internal is reached by its path under src/.
export { aggregateEntities } from './tasks/extract/aggregate-entities.ts';
export type { PreEntity } from './tasks/extract/aggregate-entities.ts';
export { onnxPath, readLabels } from './models/model-bundle.ts';
export { createFastTextFeaturizer } from './text/fasttext-featurizer.ts';
export type { FastTextFeaturizerSpec, Featurize } from './text/fasttext-featurizer.ts';
export { splitSentences } from './text/sentence-splitter.ts';
export { createFunctionScheduler } from './serving/function-scheduler.ts';
export type { FunctionScheduler, FunctionSchedulerOptions } from './serving/function-scheduler.ts';
export { createInThreadLane } from './serving/in-thread-lane.ts';
export { selectBatch, measureTextInputs } from './serving/batch-selection.ts';
export { sendError } from './http/errors.ts';
export { respondJson } from './http/respond-json.ts';
