import * as z from 'zod/mini';

// What the /v1 routes and TGI's /info answer (src/http/surfaces/openai/), declared for the OpenAPI document. The
// routes build these objects directly; test/openapi/openai-document.test.ts checks real answers against these
// schemas (unknown keys refused), so a route that changes its answer fails there. Descriptions sit here rather
// than in ./openai-field-descriptions.ts where a field name means different things in different places.

const describe = <Schema extends z.ZodMiniType>(schema: Schema, description: string): Schema => schema.check(z.describe(description)) as Schema;

const usageSchema = z.object({
  prompt_tokens: z.int(),
  completion_tokens: z.int(),
  total_tokens: z.int(),
});

const finishReasonSchema = z.enum(['stop', 'length']);

/** One token of `logprobs.content`, as the chat API reports it. */
const tokenLogprobSchema = z.object({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.int()),
});

const chatLogprobsSchema = describe(
  z.nullable(
    z.object({
      content: describe(z.array(z.extend(tokenLogprobSchema, { top_logprobs: describe(z.array(tokenLogprobSchema), "This step's likeliest tokens, best first (top_logprobs of them).") })), 'Each generated token with its log-probability.'),
    }),
  ),
  'With `"logprobs": true`: the log-probability of each token of the answer, else null.',
);

/** `POST /v1/chat/completions` without streaming. */
export const chatCompletionSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.int(),
      message: z.object({
        role: z.literal('assistant'),
        content: describe(z.string(), "The assistant's answer."),
        refusal: describe(z.null(), 'Always null: the model answers or stops, it never refuses in this field.'),
      }),
      logprobs: chatLogprobsSchema,
      finish_reason: finishReasonSchema,
    }),
  ),
  usage: usageSchema,
});

/** One event of a streamed chat completion: the role first, then the text as it comes, the finish reason, the usage. */
export const chatCompletionChunkSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.int(),
      delta: z.object({
        role: z.optional(describe(z.literal('assistant'), "On the first chunk only: the answer's role.")),
        content: z.optional(describe(z.string(), 'The text this chunk adds to the answer.')),
      }),
      logprobs: chatLogprobsSchema,
      finish_reason: z.nullable(finishReasonSchema),
    }),
  ),
  usage: z.optional(describe(z.nullable(usageSchema), 'With `stream_options.include_usage`: null on every chunk but the last, which has no choices and the counts.')),
});

const legacyLogprobsSchema = describe(
  z.nullable(
    z.object({
      tokens: describe(z.array(z.string()), 'The generated tokens, in order.'),
      token_logprobs: describe(z.array(z.number()), "Each token's log-probability."),
      top_logprobs: describe(z.array(z.record(z.string(), z.number())), "Each step's likeliest tokens and their log-probabilities."),
      text_offset: describe(z.array(z.int()), "Where each token starts in the choice's text, in UTF-16 code units."),
    }),
  ),
  'With `logprobs`: the tokens and their log-probabilities as parallel lists, else null.',
);

const completionChoiceSchema = z.object({
  index: z.int(),
  text: describe(z.string(), 'The continuation of the prompt (the prompt first, with `echo`).'),
  logprobs: legacyLogprobsSchema,
  finish_reason: z.nullable(finishReasonSchema),
});

/** `POST /v1/completions` without streaming: one choice per prompt. */
export const completionSchema = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.int(),
  model: z.string(),
  choices: z.array(completionChoiceSchema),
  usage: usageSchema,
});

/** One event of a streamed completion. */
export const completionChunkSchema = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.int(),
  model: z.string(),
  choices: z.array(completionChoiceSchema),
  usage: z.optional(describe(z.nullable(usageSchema), 'With `stream_options.include_usage`: null on every chunk but the last, which has no choices and the counts.')),
});

/** `POST /v1/embeddings`. */
export const embeddingListSchema = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      object: z.literal('embedding'),
      index: z.int(),
      embedding: z.union([z.array(z.number()), z.string()]),
    }),
  ),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.int(), total_tokens: z.int() }),
});

/** A function as OpenAI's model object. */
export const modelSchema = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.int(),
  owned_by: z.string(),
  honnx: z.object({
    task: z.string(),
    model: z.string(),
    variant: z.string(),
    state: z.enum(['idle', 'loading', 'ready', 'failed']),
    version: z.optional(
      z.object({
        active: z.string(),
        previous: z.optional(z.string()),
        canary: z.optional(z.object({ version: z.string(), percent: z.number() })),
      }),
    ),
  }),
});

/** `GET /v1/models`. */
export const modelListSchema = z.object({ object: z.literal('list'), data: z.array(modelSchema) });

/** The error body on `/v1`, which OpenAI's clients read. */
export const openAiErrorSchema = z.object({
  error: z.object({
    message: describe(z.string(), 'What is wrong and how to fix it, for a person.'),
    type: describe(z.string(), "OpenAI's error class: invalid_request_error, authentication_error, not_found_error, rate_limit_error or server_error."),
    param: describe(z.nullable(z.string()), 'The request field at fault (`messages[0].role`, `model`), or null.'),
    code: describe(z.nullable(z.string()), 'Machine-readable reason, such as model_not_found or unknown_parameter.'),
  }),
});

/** text-generation-inference's `GET /info`. */
export const tgiInfoSchema = z.object({
  model_id: z.string(),
  model_sha: z.null(),
  model_dtype: z.string(),
  model_device_type: z.string(),
  model_pipeline_tag: z.string(),
  max_concurrent_requests: z.int(),
  max_best_of: z.int(),
  max_stop_sequences: z.int(),
  max_input_tokens: z.int(),
  max_total_tokens: z.int(),
  max_client_batch_size: z.int(),
  validation_workers: z.int(),
  router: z.string(),
  version: z.string(),
  honnx_functions: z.array(z.object({ name: z.string(), route: z.string(), model: z.string(), state: z.enum(['idle', 'loading', 'ready', 'failed']) })),
});
