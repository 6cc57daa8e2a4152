import * as z from 'zod/mini';
import { extractWithSchema } from '../tasks/extract/extract-with-schema.ts';
import { observeGeneration } from '../tasks/generate/generation-observer.ts';
import { createTextGenerator, type TextGenerator } from '../tasks/generate/text-generator.ts';
import { InputError } from '../tasks/input-error.ts';
import type { TaskEndpoint } from '../spec/task-endpoint.ts';
import { addConfidence, confidenceShape, separateConfidence, withConfidenceSchema, type ConfidenceFields } from './answer-confidence.ts';
import { textOrTextsSchema, toTextList } from './schemas.ts';

const generativeExtractParametersSchema = z.strictObject({
  max_new_tokens: z.optional(z.int().check(z.minimum(1))),
  /** The prompt's text, meant for a function's defaults: `{{input}}` marks the text, `{{schema}}` the JSON Schema. */
  prompt_template: z.optional(z.string().check(z.regex(/\{\{\s*input\s*\}\}/, 'must contain {{input}}'))),
  system_prompt: z.optional(z.string()),
  ...confidenceShape,
});

/** The `parameters` a generative extract request may send. */
export type GenerativeExtractParameters = z.infer<typeof generativeExtractParametersSchema>;

/** One input's value with its confidence (what `return_confidence` shows). */
export interface ConfidentValue extends ConfidenceFields {
  value: unknown;
}

/** A value per input: one for a text, a list for a list of texts. */
export type GenerativeExtractAnswer = ConfidentValue | ConfidentValue[];

/** The function's schema, or the answer a function without one cannot give. */
function requireSchema(schema: z.core.$ZodType | undefined): z.core.$ZodType {
  if (!schema) throw new Error('a generativeExtractEndpoint function must declare its answer in defineFunction({ schema })');
  return schema;
}

/**
 * Extraction into the function's own zod schema (`defineFunction({ schema })`) on a causal language model: the
 * answer is the value the schema describes, decoded under its grammar, parsed and checked by the schema (so its
 * type is `SchemaValue<typeof fn>`); one value for a text, a list for a list of texts. The confidence is the lowest
 * probability of the value's tokens under the grammar-masked distribution.
 */
export const generativeExtractEndpoint: TaskEndpoint<TextGenerator, string | string[], GenerativeExtractParameters, GenerativeExtractAnswer> = {
  task: 'extract',
  inputsSchema: textOrTextsSchema,
  parametersSchema: generativeExtractParametersSchema,
  defaultLimits: { maxBodyBytes: 256 << 10, maxInputs: 8, maxInputTokens: 2048, maxNewTokens: 256, maxSentences: 0 },
  oneSessionPerProcess: true,
  prepare: (model, context) => createTextGenerator(model, context ? { contextTokens: context.limits.maxInputTokens + context.limits.maxNewTokens } : {}),
  async warmUp(generator) {
    await extractWithSchema(generator, 'warm up', z.object({ word: z.string().check(z.maxLength(4)) }), { maxNewTokens: 16 }).catch(() => undefined);
  },
  describe: (generator) => ({
    kind: 'generative',
    chat_template: generator.chatTemplate !== undefined,
    limits: { maxInputTokens: generator.model.maxInputTokens },
    execution_provider: generator.model.executionProvider,
  }),
  async answer(generator, inputs, { parameters, limits, signal, batching, schema }) {
    const answerSchema = requireSchema(schema);
    if (parameters.max_new_tokens !== undefined && parameters.max_new_tokens > limits.maxNewTokens) {
      throw new InputError('too_large', `max_new_tokens is ${parameters.max_new_tokens}, over this function's limit of ${limits.maxNewTokens}`);
    }
    const options = {
      instruction: parameters.prompt_template,
      systemPrompt: parameters.system_prompt,
      maxNewTokens: parameters.max_new_tokens ?? limits.maxNewTokens,
      maxPromptTokens: limits.maxInputTokens,
      signal,
      shareRuns: batching ?? true,
    };
    // Texts of one request decode side by side in the model's shared step loop.
    const answers = await Promise.all(
      toTextList(inputs).map(async (text) => {
        const { value, confidence } = await extractWithSchema(generator, text, answerSchema, options);
        return addConfidence({ value }, confidence, parameters.min_confidence);
      }),
    );
    return typeof inputs === 'string' ? answers[0] : answers;
  },
  separateConfidence: (answer, parameters) => separateConfidence(answer, parameters, (item) => item.value),
  describeAnswer(schema) {
    const value = requireSchema(schema);
    const one = z.union([value, withConfidenceSchema({ value })]);
    return z.union([one, z.array(one)]);
  },
  defaultServing: { batching: { maxBatchSize: 16 }, timeoutMilliseconds: 120_000 },
  observe: (generator, observer) => observeGeneration(generator.model, observer),
};
