import * as z from 'zod/mini';
import { classify, createClassifier, type Classifier, type LabelScore } from '../tasks/classify/classify.ts';
import { optionalCountSchema, textOrTextsSchema, toTextList } from './schemas.ts';
import { answerTextBatches } from './answer-text-batches.ts';
import { measureWithTokenizer } from './measure-with-tokenizer.ts';
import type { TaskEndpoint } from '../spec/task-endpoint.ts';
import type { FunctionLimits } from '../spec/function-limits.ts';

const classifyParametersSchema = z.strictObject({
  top_k: optionalCountSchema,
  function_to_apply: z.optional(z.enum(['softmax', 'sigmoid', 'exp', 'none'])),
  /** Cut inputs longer than the model accepts instead of refusing them with 413. */
  truncation: z.optional(z.boolean()),
});

/** The `parameters` a classify request may send (Hugging Face's text-classification names). */
export type ClassifyParameters = z.infer<typeof classifyParametersSchema>;

function classifyTexts(classifier: Classifier, texts: string[], parameters: ClassifyParameters, limits: Required<FunctionLimits>) {
  return classify(classifier, texts, {
    topK: parameters.top_k,
    scoreFunction: parameters.function_to_apply,
    truncate: parameters.truncation,
    maxTokens: limits.maxInputTokens,
  });
}

/** Sequence classification, answered as the Hugging Face Inference API does: one `[{label, score}]` list per input. */
export const classifyEndpoint: TaskEndpoint<Classifier, string | string[], ClassifyParameters, LabelScore[][]> = {
  task: 'classify',
  inputsSchema: textOrTextsSchema,
  parametersSchema: classifyParametersSchema,
  defaultLimits: { maxBodyBytes: 1 << 20, maxInputs: 64, maxInputTokens: 4096, maxNewTokens: 0, maxSentences: 0 },
  prepare: createClassifier,
  async warmUp(classifier) {
    await classify(classifier, ['warm up'], { truncate: true });
  },
  describe: (classifier) => ({
    labels: classifier.labels,
    limits: Number.isFinite(classifier.textEncoder.maxLength) ? { maxInputTokens: classifier.textEncoder.maxLength } : {},
    featurizer: classifier.textEncoder.kind,
    function_to_apply: classifier.defaultScoreFunction,
    execution_provider: classifier.session.executionProvider,
  }),
  answer: (classifier, inputs, { parameters, limits }) => classifyTexts(classifier, toTextList(inputs), parameters, limits),
  // Requests with the same parameters share one run, padded to their longest text. A batch of texts of similar
  // length costs less per text than texts run one by one (about 0.7× the CPU for SST-2 sentences, in batches of
  // 8 sorted by length); the scheduler groups requests by length so that padding stays small.
  answerBatch: (classifier, requests, limits) =>
    answerTextBatches(requests, (texts, parameters) => classifyTexts(classifier, texts, parameters, limits), (results) => results),
  // With truncation a long text is cut to the limit, not refused.
  refusesLongInputs: (parameters) => parameters.truncation !== true,
  createMeasure: measureWithTokenizer,
  defaultServing: { batching: { maxBatchSize: 16 } },
};
