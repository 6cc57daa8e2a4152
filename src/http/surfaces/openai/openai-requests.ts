import * as z from 'zod/mini';
import { structuredOutputShape } from '../../../endpoints/structured-output-shape.ts';
import { toFieldError } from './openai-errors.ts';

// The request bodies of OpenAI's chat and completions APIs, as far as honnx answers them. Clients send `null` for
// fields they leave unset, so every optional field takes null too. Unknown fields are refused with a 400 naming them.

const optional = <Schema extends z.ZodMiniType>(schema: Schema) => z.optional(z.nullable(schema));

const textPart = z.object({ type: z.string(), text: z.optional(z.string()) });

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: optional(z.union([z.string(), z.array(textPart)])),
  name: optional(z.string()),
});

const stop = optional(z.union([z.string(), z.array(z.string()).check(z.maxLength(16))]));

/** Sampling fields both APIs share. */
const samplingFields = {
  model: z.string(),
  max_tokens: optional(z.int().check(z.minimum(1))),
  temperature: optional(z.number().check(z.gte(0), z.lte(2))),
  top_p: optional(z.number().check(z.gt(0), z.lte(1))),
  seed: optional(z.int().check(z.minimum(0))),
  stop,
  frequency_penalty: optional(z.number().check(z.gte(-2), z.lte(2))),
  presence_penalty: optional(z.number().check(z.gte(-2), z.lte(2))),
  n: optional(z.int().check(z.minimum(1))),
  stream: optional(z.boolean()),
  stream_options: optional(z.strictObject({ include_usage: optional(z.boolean()) })),
  user: optional(z.string()),
  logit_bias: optional(z.record(z.string(), z.number())),
  // Extensions vLLM and text-generation-inference accept, which @huggingface/inference passes through from its
  // text-generation parameters.
  top_k: optional(z.int().check(z.minimum(0))),
  repetition_penalty: optional(z.number().check(z.gt(0))),
  do_sample: optional(z.boolean()),
};


export const chatCompletionRequestSchema = z.strictObject({
  ...samplingFields,
  messages: z.array(message).check(z.minLength(1)),
  max_completion_tokens: optional(z.int().check(z.minimum(1))),
  logprobs: optional(z.boolean()),
  top_logprobs: optional(z.int().check(z.minimum(0), z.maximum(20))),
  /** The generate task's own: `json_object` and `json_schema` constrain decoding to the schema's grammar. */
  response_format: z.optional(z.nullable(structuredOutputShape.response_format)),
  tools: optional(z.array(z.unknown())),
  tool_choice: optional(z.unknown()),
  parallel_tool_calls: optional(z.boolean()),
  store: optional(z.boolean()),
  metadata: optional(z.record(z.string(), z.string())),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

export const completionRequestSchema = z.strictObject({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()).check(z.minLength(1)), z.array(z.unknown())]),
  echo: optional(z.boolean()),
  /** The legacy API's: how many most likely tokens to report per step (0-5). */
  logprobs: optional(z.int().check(z.minimum(0), z.maximum(5))),
  suffix: optional(z.string()),
  best_of: optional(z.int().check(z.minimum(1))),
});

export type CompletionRequest = z.infer<typeof completionRequestSchema>;

export type SharedSamplingFields = Pick<ChatCompletionRequest, keyof typeof samplingFields>;

/** Parses a body with `schema`, or throws the 400 that names the field at fault. */
export function parseOpenAiRequest<Output>(schema: z.ZodMiniType<Output>, body: unknown): Output {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw toFieldError(parsed.error, schema, body);
  return parsed.data;
}

export const embeddingRequestSchema = z.strictObject({
  model: z.string(),
  input: z.union([z.string(), z.array(z.unknown()).check(z.minLength(1))]),
  encoding_format: optional(z.enum(['float', 'base64'])),
  dimensions: optional(z.int().check(z.minimum(1))),
  user: optional(z.string()),
});
