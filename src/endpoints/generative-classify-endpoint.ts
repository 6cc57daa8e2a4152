import * as z from 'zod/mini';
import { type LabelScore } from '../tasks/classify/classify.ts';
import { checkLabelSet, classifyGeneratively, createGenerativeClassifier, type GenerativeClassifier, type GenerativeClassifierSettings } from '../tasks/classify/generative-classifier.ts';
import { fillPromptTemplate } from '../tasks/generate/prompt.ts';
import { createTextGenerator } from '../tasks/generate/text-generator.ts';
import type { TaskEndpoint } from '../spec/task-endpoint.ts';
import { addConfidence, confidenceShape, separateConfidence, withConfidenceSchema, type ConfidenceFields } from './answer-confidence.ts';
import { optionalCountSchema, textOrTextsSchema, toTextList } from './schemas.ts';

const generativeClassifyParametersSchema = z.strictObject({
  top_k: optionalCountSchema,
  ...confidenceShape,
});

/** The `parameters` a generative classify request may send. */
export type GenerativeClassifyParameters = z.infer<typeof generativeClassifyParametersSchema>;

/** One input's labels with their confidence: the top label's score (what `return_confidence` shows). */
export interface ConfidentLabels extends ConfidenceFields {
  labels: LabelScore[];
}

/** One list of labels per input, or with `return_confidence` one `{labels, confidence, low_confidence}` per input. */
function createAnswerSchema(labels: readonly string[]) {
  const list = z.array(z.object({ label: z.enum(labels as [string, ...string[]]), score: z.number() }));
  return z.array(z.union([list, withConfidenceSchema({ labels: list })]));
}

/** A function's label set and how it asks the model: `instruction` holds `{{input}}` and may hold `{{labels}}`. */
export type GenerativeClassifyOptions = GenerativeClassifierSettings;

/**
 * Zero-shot classification on a causal language model, answered in the Hugging Face shape of `classifyEndpoint`
 * (`[[{label, score}, ...]]`, one list per input, best first). The function gives the labels; each is scored by
 * the model's probability of answering it (chat template, label tokens and end of sequence), and the scores are
 * the softmax over those sequence log-probabilities. The confidence is the top label's score.
 */
export function generativeClassifyEndpoint(
  options: GenerativeClassifyOptions,
): TaskEndpoint<GenerativeClassifier, string | string[], GenerativeClassifyParameters, ConfidentLabels[]> {
  // A wrong label set or instruction stops the function file from loading, not its first request.
  checkLabelSet(options.labels);
  if (options.instruction !== undefined) fillPromptTemplate(options.instruction, '');
  const settings: GenerativeClassifierSettings = { ...options, labels: [...options.labels] };
  return {
    task: 'classify',
    inputsSchema: textOrTextsSchema,
    parametersSchema: generativeClassifyParametersSchema,
    defaultLimits: { maxBodyBytes: 256 << 10, maxInputs: 16, maxInputTokens: 2048, maxNewTokens: 0, maxSentences: 0 },
    oneSessionPerProcess: true,
    describeAnswer: () => createAnswerSchema(settings.labels),
    prepare: async (model, context) =>
      createGenerativeClassifier(await createTextGenerator(model, context ? { contextTokens: context.limits.maxInputTokens + 64 } : {}), settings),
    async warmUp(classifier) {
      await classifyGeneratively(classifier, 'warm up');
    },
    describe: (classifier) => ({
      labels: settings.labels,
      kind: 'generative',
      chat_template: classifier.chat,
      limits: { maxInputTokens: classifier.generator.model.maxInputTokens },
      execution_provider: classifier.generator.model.executionProvider,
    }),
    async answer(classifier, inputs, { parameters, limits }) {
      const answers: ConfidentLabels[] = [];
      // As classify's top_k: 1 by default, null or 0 for every label.
      const topK = parameters.top_k === undefined ? 1 : (parameters.top_k ?? 0);
      for (const text of toTextList(inputs)) {
        const { scores } = await classifyGeneratively(classifier, text, { maxPromptTokens: limits.maxInputTokens });
        answers.push(addConfidence({ labels: topK === 0 ? scores : scores.slice(0, topK) }, scores[0].score, parameters.min_confidence));
      }
      return answers;
    },
    separateConfidence: (answer, parameters) => separateConfidence(answer, parameters, (item) => item.labels),
    defaultServing: { batching: false, timeoutMilliseconds: 60_000 },
  };
}
