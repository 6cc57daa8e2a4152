import * as z from 'zod/mini';
import { AGGREGATION_STRATEGIES, type Entity } from '../tasks/extract/aggregate-entities.ts';
import { createEntityExtractor, type EntityExtractor } from '../tasks/extract/entity-extractor.ts';
import { DEFAULT_AGGREGATION_STRATEGY, defaultStride, extractEntities } from '../tasks/extract/extract-entities.ts';
import { textOrTextsSchema, toTextList } from './schemas.ts';
import { answerTextBatches } from './answer-text-batches.ts';
import { measureWithTokenizer } from './measure-with-tokenizer.ts';
import type { TaskEndpoint } from '../spec/task-endpoint.ts';
import type { FunctionLimits } from '../spec/function-limits.ts';

/** The Hugging Face Inference API's token-classification parameters. */
const extractParametersSchema = z.strictObject({
  aggregation_strategy: z.optional(z.enum(AGGREGATION_STRATEGIES)),
  ignore_labels: z.optional(z.array(z.string())),
  /** Tokens shared by consecutive windows when a text is longer than the model reads at once. */
  stride: z.optional(z.int().check(z.minimum(0))),
});

/** The `parameters` an extract request may send (Hugging Face's token-classification names). */
export type ExtractParameters = z.infer<typeof extractParametersSchema>;

function extractFromTexts(extractor: EntityExtractor, texts: string[], parameters: ExtractParameters, limits: Required<FunctionLimits>, signal?: AbortSignal) {
  return extractEntities(extractor, texts, {
    aggregationStrategy: parameters.aggregation_strategy,
    ignoreLabels: parameters.ignore_labels,
    stride: parameters.stride,
    maxTokens: limits.maxInputTokens,
    signal,
  });
}

/**
 * Named entities (token classification), answered as the Hugging Face Inference API does: a flat list of entities
 * for one text, a list of such lists for a batch. Texts longer than the model reads are read in overlapping windows,
 * up to the function's `maxInputTokens`.
 */
export const extractEndpoint: TaskEndpoint<EntityExtractor, string | string[], ExtractParameters, Entity[] | Entity[][]> = {
  task: 'extract',
  inputsSchema: textOrTextsSchema,
  parametersSchema: extractParametersSchema,
  defaultLimits: { maxBodyBytes: 1 << 20, maxInputs: 32, maxInputTokens: 4096, maxNewTokens: 0, maxSentences: 0 },
  prepare: (model) => createEntityExtractor(model),
  async warmUp(extractor) {
    await extractEntities(extractor, ['Warm up in Paris.']);
  },
  refusesLongInputs: () => true,
  describe: (extractor) => ({
    labels: extractor.labels,
    entity_types: [...new Set(extractor.labels.filter((label) => label !== 'O').map((label) => label.replace(/^[BI]-/, '')))],
    max_tokens_per_window: extractor.maxLength,
    default_stride: defaultStride(extractor),
    aggregation_strategy: DEFAULT_AGGREGATION_STRATEGY,
    execution_provider: extractor.session.executionProvider,
  }),
  async answer(extractor, inputs, { parameters, limits, signal }) {
    const results = await extractFromTexts(extractor, toTextList(inputs), parameters, limits, signal);
    return typeof inputs === 'string' ? results[0] : results;
  },
  // The windows of every text of the batch run together, sorted by length, as the windows of one request's texts do.
  answerBatch: (extractor, requests, limits) =>
    answerTextBatches(
      requests,
      (texts, parameters) => extractFromTexts(extractor, texts, parameters, limits),
      (results, inputs) => (typeof inputs === 'string' ? results[0] : results),
    ),
  createMeasure: measureWithTokenizer,
  defaultServing: { batching: { maxBatchSize: 16 } },
};
