// honnx's public API. Every export is named here on purpose: what is not listed is internal.

// Functions and the HTTP layer
export { defineFunction } from './spec/define-function.ts';
export type { HonnxFunction } from './spec/define-function.ts';
export type { FunctionEnv } from './http/function-env.ts';
export type { FunctionDefinition, ModelDelivery, WorkersFunctionOptions } from './spec/function-definition.ts';
export { createHonnxApp } from './http/create-app.ts';
export type { HonnxAppOptions } from './http/create-app.ts';
export { createFunctionHost } from './serving/function-host.ts';
export type { FunctionHost, FunctionHostOptions, FunctionState, LoadFunctionModel } from './serving/function-host.ts';
export { HttpError } from './http/errors.ts';
export type { ErrorBody } from './http/errors.ts';
export type { EndpointContext, TaskEndpoint } from './spec/task-endpoint.ts';
export type { FunctionLimits } from './spec/function-limits.ts';

// Task endpoints: a function names one of these as its task
export { classifyEndpoint } from './endpoints/classify-endpoint.ts';
export type { ClassifyParameters } from './endpoints/classify-endpoint.ts';
export { extractEndpoint } from './endpoints/extract-endpoint.ts';
export type { ExtractParameters } from './endpoints/extract-endpoint.ts';
export { summarizeEndpoint } from './endpoints/summarize-endpoint.ts';
export type { SummarizeParameters, SummaryAnswer } from './endpoints/summarize-endpoint.ts';
export { generateEndpoint } from './endpoints/generate-endpoint.ts';
export type { GenerateAnswer, GenerateParameters, GenerateStreamEvent, GenerationDetails } from './endpoints/generate-endpoint.ts';

// Tasks, usable without HTTP
export { classify, createClassifier } from './tasks/classify/classify.ts';
export type { Classifier, ClassifyOptions, LabelScore } from './tasks/classify/classify.ts';
export { createEntityExtractor } from './tasks/extract/entity-extractor.ts';
export type { EntityExtractor, EntityExtractorOptions } from './tasks/extract/entity-extractor.ts';
export { extractEntities } from './tasks/extract/extract-entities.ts';
export type { ExtractOptions } from './tasks/extract/extract-entities.ts';
export { aggregateEntities } from './tasks/extract/aggregate-entities.ts';
export type { AggregationStrategy, Entity, EntityGroup, TokenEntity } from './tasks/extract/aggregate-entities.ts';
export { createSummarizer } from './tasks/summarize/create-summarizer.ts';
export type { Summarizer } from './tasks/summarize/create-summarizer.ts';
export { createExtractiveSummarizer, summarizeExtractively } from './tasks/summarize/extractive.ts';
export type { ExtractiveSummarizer, ExtractiveSummary, ExtractiveSummaryOptions } from './tasks/summarize/extractive.ts';
export { createGenerativeSummarizer, summarizeGeneratively } from './tasks/summarize/generative.ts';
export type { GenerativeSummarizer, GenerativeSummaryOptions } from './tasks/summarize/generative.ts';
export { createTextGenerator } from './tasks/generate/text-generator.ts';
export type { TextGenerator } from './tasks/generate/text-generator.ts';
export { generateText, streamText } from './tasks/generate/generate-text.ts';
export type { GenerateRequestOptions, GenerationEvent, GenerationResult } from './tasks/generate/generate-text.ts';
export { InputError } from './tasks/input-error.ts';
export type { InputErrorReason } from './tasks/input-error.ts';

// Models
export { loadModelBundle, onnxPath, readLabels } from './models/model-bundle.ts';
export type { LoadModelOptions, ModelBundle, ModelConfig, ModelVariant } from './models/model-bundle.ts';
export { createMemoryModelFiles } from './models/model-files.ts';
export type { ModelFiles } from './models/model-files.ts';

// Engine seam
export type {
  Engine,
  EngineSession,
  Feeds,
  InferenceSession,
  ModelInput,
  SessionOptions,
  Tensor,
  TensorType,
  ValueMetadata,
} from './engine/engine.ts';

// Text processing
export { createTokenizer } from './text/tokenizer.ts';
export type { Encoded, EncodedWithOffsets, Offset, TextTokenizer } from './text/tokenizer.ts';
export { createFastTextFeaturizer } from './text/fasttext-featurizer.ts';
export { splitSentences } from './text/sentence-splitter.ts';
