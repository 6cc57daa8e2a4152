import * as z from 'zod/mini';

// Apart from the generate endpoint, so that a surface reading these fields (OpenAI's /v1) does not bring the
// generation code into every function's bundle.

/** A JSON Schema, checked by the constrained decoder itself (which names any keyword it cannot honour). */
const jsonSchema = z.union([z.record(z.string(), z.unknown()), z.boolean()]);

/**
 * The grammar of a constrained answer: OpenAI's `response_format` and text-generation-inference's `grammar`.
 * Both compile through `compileResponseFormat`.
 */
export const structuredOutputShape = {
  response_format: z.optional(
    z.union([
      z.strictObject({ type: z.literal('text') }),
      z.strictObject({ type: z.literal('json_object') }),
      z.strictObject({
        type: z.literal('json_schema'),
        json_schema: z.object({ name: z.optional(z.string()), description: z.optional(z.string()), schema: jsonSchema, strict: z.optional(z.nullable(z.boolean())) }),
      }),
    ]),
  ),
  grammar: z.optional(z.strictObject({ type: z.literal('json'), value: jsonSchema })),
};
