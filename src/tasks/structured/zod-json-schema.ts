import * as z from 'zod/mini';

// Apart from the constraint engine, so that the HTTP layer can show a function's schema without bundling the engine.

const converted = new WeakMap<z.core.$ZodType, Record<string, unknown>>();

/**
 * A zod schema as JSON Schema (zod's own `z.toJSONSchema`, output side), converted once per schema object: what a
 * function's answer schema compiles from and what `GET /<function>` and the OpenAPI document show.
 */
export function convertZodSchema(schema: z.core.$ZodType): Record<string, unknown> {
  let jsonSchema = converted.get(schema);
  if (!jsonSchema) converted.set(schema, (jsonSchema = z.toJSONSchema(schema, { io: 'output' }) as Record<string, unknown>));
  return jsonSchema;
}
