import * as z from 'zod/mini';

// The answers each task sends, declared as schemas so that the OpenAPI document is generated rather than written
// by hand, and so that the tests can check real answers against it: a task that changes its answer shape fails there.

const labelScoreSchema = z.object({ label: z.string(), score: z.number() });

/** One `[{label, score}]` list per input, best first. */
export const classifyAnswerSchema = z.array(z.array(labelScoreSchema));

/** An entity of `aggregation_strategy: "none"`: one token and its label. */
const tokenEntitySchema = z.object({
  entity: z.string(),
  score: z.number(),
  index: z.int(),
  word: z.string(),
  start: z.int(),
  end: z.int(),
});

/** An entity of every other strategy: adjacent words of one type, `word` being the text between `start` and `end`. */
const entityGroupSchema = z.object({
  entity_group: z.string(),
  score: z.number(),
  word: z.string(),
  start: z.int(),
  end: z.int(),
});

const entityListSchema = z.array(z.union([entityGroupSchema, tokenEntitySchema]));

/** A list of entities for one text, a list of such lists for a batch. */
export const extractAnswerSchema = z.union([entityListSchema, z.array(entityListSchema)]);

/** One summary per input; the sentences and their scores when an extractive summarizer is asked `return_scores`. */
export const summarizeAnswerSchema = z.array(
  z.object({
    summary_text: z.string(),
    selected: z.optional(z.array(z.int())),
    sentences: z.optional(z.array(z.object({ text: z.string(), score: z.number() }))),
    confidence: z.optional(z.number().check(z.describe("With return_confidence (generative summaries): the geometric mean of the summary's token probabilities."))),
    low_confidence: z.optional(z.boolean().check(z.describe('With return_confidence and min_confidence: the confidence is under min_confidence.'))),
  }),
);

const generatedTokenSchema = z.object({ id: z.int(), text: z.string(), logprob: z.number(), special: z.boolean() });

const generationDetailsSchema = z.object({
  finish_reason: z.enum(['length', 'eos_token', 'stop_sequence']),
  generated_tokens: z.int(),
  prompt_tokens: z.int().check(z.describe('Tokens of the prompt as the model saw it (chat template and special tokens included).')),
  seed: z.int(),
  tokens: z.optional(z.array(generatedTokenSchema).check(z.describe('With `top_n_tokens`: every generated token with its log-probability.'))),
  top_tokens: z.optional(z.array(z.array(generatedTokenSchema)).check(z.describe("With `top_n_tokens`: each step's most likely tokens, best first."))),
});

/** A generation's confidence fields, shown with return_confidence (`where` says on what). */
const createConfidenceShape = (where: string) => ({
  confidence: z.optional(
    z.number().check(z.describe(`On ${where}, with return_confidence: the geometric mean of the generated tokens' probabilities; under a grammar, the lowest of them.`)),
  ),
  low_confidence: z.optional(z.boolean().check(z.describe(`On ${where}, with return_confidence and min_confidence: the confidence is under min_confidence.`))),
});

/** `structured` of a constrained answer; `value` is the function's answer schema where it has one. */
const createStructuredSchema = (value: z.core.$ZodType) =>
  z.object({
    complete: z.boolean().check(z.describe('The grammar reached the end of a value.')),
    valid: z.boolean().check(z.describe('Complete, parsed by JSON.parse and accepted by a JSON Schema validator.')),
    error: z.optional(z.string().check(z.describe('Why it is not valid.'))),
    value: z.optional(value).check(z.describe('The parsed value, when valid.')),
  });

/**
 * `[{generated_text}]`, with `details` when asked and `structured` under a grammar (`value` of type `value`); one
 * such list per prompt for a list of prompts.
 */
export const createGenerateAnswerSchema = (value: z.core.$ZodType = z.unknown()) => {
  const answers = z.array(
    z.object({ generated_text: z.string(), details: z.optional(generationDetailsSchema), structured: z.optional(createStructuredSchema(value)), ...createConfidenceShape('the answer') }),
  );
  return z.union([answers, z.array(answers)]);
};

export const generateAnswerSchema = createGenerateAnswerSchema();

/** The `data` of one server-sent event of a streamed generation, as text-generation-inference sends it. */
export const generateStreamEventSchema = z.object({
  token: generatedTokenSchema,
  top_tokens: z.optional(z.array(generatedTokenSchema).check(z.describe("With `top_n_tokens`: this step's most likely tokens, best first."))),
  generated_text: z.nullable(z.string()).check(z.describe('The whole generated text, on the last event only.')),
  details: z.nullable(generationDetailsSchema),
  structured: z.optional(createStructuredSchema(z.unknown())),
  ...createConfidenceShape('the last event'),
});

/** Every error answer. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().check(z.describe('Machine-readable reason, such as invalid_inputs or body_too_large.')),
    message: z.string().check(z.describe('What is wrong and how to fix it, for a person.')),
  }),
});

/** Answer schemas of the built-in tasks, by task name. A task not listed here is documented as answering any JSON. */
export const answerSchemas: Record<string, z.ZodMiniType> = {
  classify: classifyAnswerSchema,
  extract: extractAnswerSchema,
  summarize: summarizeAnswerSchema,
  generate: generateAnswerSchema,
};
