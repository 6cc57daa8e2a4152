// honnx's public API. Every export is named here on purpose: what is not listed is internal.

// Functions: what a file in functions/ exports, and the contracts a task implements
export { defineFunction } from './spec/define-function.ts';
export type { HonnxFunction, SchemaValue } from './spec/define-function.ts';
export type { AnswerSchema, CanarySpec, FunctionDefinition, ModelDelivery, ParametersOf, WorkersFunctionOptions } from './spec/function-definition.ts';
export type { FunctionAuth } from './spec/function-auth.ts';
export type { FunctionLimits } from './spec/function-limits.ts';
export type { BatchingOptions, ServingOptions, ServingSettings } from './spec/serving-options.ts';
export type { AnswerConfidence, BatchedAnswers, BatchedRequest, EndpointContext, PrepareContext, TaskEndpoint } from './spec/task-endpoint.ts';
export type { TaskCall } from './spec/task-call.ts';
export type { RequestSize } from './spec/request-size.ts';
export type { RunObserver } from './spec/run-observer.ts';
export type { ServingEvents } from './spec/serving-events.ts';

// Serving: a function's host and its transport-free submit
export { createFunctionHost } from './serving/function-host.ts';
export type { CreateLanes, FunctionHost, FunctionHostOptions, FunctionRequest, FunctionState, LoadedModelInfo, LoadFunctionModel, ServedVersions } from './serving/function-host.ts';
export type { ClientSignal } from './serving/function-scheduler.ts';
export type { Lane, LaneBatchResult, LoadedLane } from './serving/lane.ts';
export { ServingError } from './serving/serving-error.ts';
export type { ServingErrorKind } from './serving/serving-error.ts';

// The HTTP app and its API surfaces
export { createHonnxApp } from './http/create-app.ts';
export type { HonnxAppOptions } from './http/create-app.ts';
export type { FunctionEnv } from './http/function-env.ts';
export type { ApiSurface, EnterFunction, SurfaceContext } from './http/surfaces/api-surface.ts';
export { createHuggingFaceSurface } from './http/surfaces/hugging-face/hugging-face-surface.ts';
export { createOpenAiSurface } from './http/surfaces/openai/openai-surface.ts';
export { readJsonBody } from './http/read-json-body.ts';
export { HttpError, toHttpError } from './http/errors.ts';
export type { ErrorBody } from './http/errors.ts';
export { interfacePages } from './http/playground/interface-pages.ts';
export type { InterfacePages } from './http/playground/interface-pages.ts';
export type { OpenApiDocument, OpenApiOptions } from './http/openapi/create-openapi-document.ts';
export type { AccessPolicy } from './http/auth/access-policy.ts';
export { createApiKeySet } from './http/auth/api-keys.ts';
export type { ApiKeySet } from './http/auth/api-keys.ts';
export { resolveServerSettings } from './http/settings/server-settings.ts';
export type { CorsSettings, ResolveServerSettingsOptions, ServerConfig, ServerSettings } from './http/settings/server-settings.ts';
export { createServingMetrics } from './http/metrics/serving-metrics.ts';
export type { ServingMetrics } from './http/metrics/serving-metrics.ts';
export { createMetricsRegistry } from './http/metrics/registry.ts';
export type { Counter, Gauge, GaugeOptions, Histogram, HistogramOptions, LabelValues, MetricOptions, MetricsRegistry } from './http/metrics/registry.ts';
export { createLogger } from './http/logging/logger.ts';
export type { LogFields, Logger, LoggerOptions, LogLevel } from './http/logging/logger.ts';
export { createRequestDrain } from './http/middleware/request-drain.ts';
export type { DeadlineWatch, RequestDrain } from './http/middleware/request-drain.ts';

// Task endpoints: a function names one of these as its task
export { classifyEndpoint } from './endpoints/classify-endpoint.ts';
export { generativeClassifyEndpoint } from './endpoints/generative-classify-endpoint.ts';
export type { ConfidentLabels, GenerativeClassifyOptions, GenerativeClassifyParameters } from './endpoints/generative-classify-endpoint.ts';
export type { ConfidenceFields } from './endpoints/answer-confidence.ts';
export { generativeExtractEndpoint } from './endpoints/generative-extract-endpoint.ts';
export type { ConfidentValue, GenerativeExtractAnswer, GenerativeExtractParameters } from './endpoints/generative-extract-endpoint.ts';
export type { GenerativeClassifier, GenerativeClassifierSettings } from './tasks/classify/generative-classifier.ts';
export type { ClassifyParameters } from './endpoints/classify-endpoint.ts';
export { extractEndpoint } from './endpoints/extract-endpoint.ts';
export type { ExtractParameters } from './endpoints/extract-endpoint.ts';
export { summarizeEndpoint } from './endpoints/summarize-endpoint.ts';
export type { SummarizeParameters, SummaryAnswer } from './endpoints/summarize-endpoint.ts';
export { embedEndpoint } from './endpoints/embed-endpoint.ts';
export type { EmbedAnswer, EmbedParameters } from './endpoints/embed-endpoint.ts';
export { generateEndpoint } from './endpoints/generate-endpoint.ts';
export type { GenerateAnswer, GenerateInputs, StructuredAnswer, GenerateParameters, GenerateStreamEvent, GeneratedToken, GenerationDetails } from './endpoints/generate-endpoint.ts';

// Tasks, usable without HTTP
export { classify, createClassifier } from './tasks/classify/classify.ts';
export type { Classifier, ClassifyOptions, LabelScore } from './tasks/classify/classify.ts';
export { createEmbedder, embedTexts } from './tasks/embed/embed-texts.ts';
export type { EmbedOptions, Embedder, Embeddings } from './tasks/embed/embed-texts.ts';
export type { Pooling } from './tasks/embed/pooling.ts';
export type { ClassifierTextEncoder } from './tasks/classify/text-encoder.ts';
export type { ScoreFunction } from './tasks/scores.ts';
export { createEntityExtractor } from './tasks/extract/entity-extractor.ts';
export type { EntityExtractor, EntityExtractorOptions } from './tasks/extract/entity-extractor.ts';
export { extractEntities } from './tasks/extract/extract-entities.ts';
export type { ExtractOptions } from './tasks/extract/extract-entities.ts';
export type { AggregationStrategy, Entity, EntityGroup, TokenEntity } from './tasks/extract/aggregate-entities.ts';
export { createSummarizer } from './tasks/summarize/create-summarizer.ts';
export type { Summarizer } from './tasks/summarize/create-summarizer.ts';
export { createExtractiveSummarizer, summarizeExtractively } from './tasks/summarize/extractive.ts';
export type { ExtractiveSummarizer, ExtractiveSummary, ExtractiveSummaryOptions, SentenceScoringContract } from './tasks/summarize/extractive.ts';
export { createGenerativeSummarizer, summarizeGeneratively } from './tasks/summarize/generative.ts';
export type { GenerativeSummarizer, GenerativeSummary, GenerativeSummaryOptions, SummarizationParams } from './tasks/summarize/generative.ts';
export { createTextGenerator } from './tasks/generate/text-generator.ts';
export type { TextGenerator, TextGeneratorOptions } from './tasks/generate/text-generator.ts';
export { generateText, streamText } from './tasks/generate/generate-text.ts';
export type { GenerateRequestOptions, GenerationEvent, GenerationResult } from './tasks/generate/generate-text.ts';
export type { DoneEvent, FinishReason, TokenEvent } from './tasks/generate/generation-sequence.ts';
export type { TokenConfidence } from './tasks/generate/token-confidence.ts';
export type { GenerationDefaults, GenerationOptions } from './tasks/generate/generation-options.ts';
export type { BatchedDecoding, BatchedStep, Decoding, GenerativeModel, GenerativeModelKind } from './tasks/generate/generative-model.ts';
export type { DecodeBatch } from './tasks/generate/batched-cache.ts';
export type { ChatMessage, Prompt, PromptInput, PromptStyle } from './tasks/generate/prompt.ts';
export type { ConstraintSource, StructuredResult, TokenConstraint } from './tasks/generate/token-constraint.ts';
export type { LogitsProcessor, ScoreRow, StepContext } from './tasks/generate/score-row.ts';
export { InputError } from './tasks/input-error.ts';
export type { InputErrorReason } from './tasks/input-error.ts';

// Models
export { loadModelBundle } from './models/model-bundle.ts';
export type { GenaiConfig, LoadModelOptions, ModelBundle, ModelConfig, ModelVariant } from './models/model-bundle.ts';
export { createMemoryModelFiles } from './models/model-files.ts';
export type { ModelFiles } from './models/model-files.ts';

// Engine seam
export type {
  Dimension,
  Engine,
  EngineSession,
  Feeds,
  InferenceSession,
  ModelInput,
  RunOptions,
  SessionOptions,
  Tensor,
  TensorData,
  TensorType,
  ValueMetadata,
} from './engine/engine.ts';

// Text processing
export { createTokenizer } from './text/tokenizer.ts';
export type { Encoded, EncodedWithOffsets, Offset, SpecialTokenIds, TextTokenizer, TokenizerConfig } from './text/tokenizer.ts';
export type { TokenBytes } from './text/token-bytes.ts';
