import * as z from 'zod/mini';
import type { TaskEndpoint } from '../../spec/task-endpoint.ts';

/** What `"stream": true` does, for the tasks that stream. */
const STREAM_DESCRIPTIONS: Record<string, string> = {
  generate: 'Answer as server-sent events, one per token; one text only (a list with it is a 400).',
  summarize:
    'A generative summarizer (`streaming: true` in GET /<function>): answer as server-sent events, one per token, in generate\'s stream shape; one text only. An extractive one refuses it (400).',
};

/**
 * The body `POST /<function>` accepts, built from the task's own `inputsSchema` and `parametersSchema` (the schemas
 * that validate requests) around the envelope that src/http/surfaces/hugging-face/read-request.ts reads.
 */
export function createRequestBodySchema(endpoint: TaskEndpoint) {
  return z.strictObject({
    inputs: endpoint.inputsSchema,
    parameters: z.optional(endpoint.parametersSchema),
    stream: z.optional(z.boolean().check(z.describe(STREAM_DESCRIPTIONS[endpoint.task] ?? 'Accepted for compatibility; this task always answers JSON.'))),
    options: z.optional(
      z.record(z.string(), z.unknown()).check(z.describe('Hugging Face Inference API options (wait_for_model, use_cache): accepted, no effect here.')),
    ),
  });
}

/** JSON Schema of a request schema, as requests are read (input side: optional fields, defaults not applied). */
export const toRequestJsonSchema = (schema: z.ZodMiniType) => z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;

/** JSON Schema of an answer schema, as the server writes answers. */
export const toAnswerJsonSchema = (schema: z.ZodMiniType) => z.toJSONSchema(schema, { io: 'output' }) as Record<string, unknown>;
