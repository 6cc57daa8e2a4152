import * as z from 'zod/mini';
import type { TextTokenizer } from '../../text/tokenizer.ts';
import { InputError } from '../input-error.ts';
import { compileJsonSchema, type CompiledGrammar } from './json-constraint.ts';
import { convertZodSchema } from './zod-json-schema.ts';

/**
 * The shapes a caller names a grammar in: OpenAI's `response_format` (`json_object`, `json_schema`, `text`) and
 * text-generation-inference's `grammar` (`{type: "json", value: schema}`).
 */
export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name?: string; schema?: unknown; strict?: boolean | null; description?: string } }
  | { type: 'json'; value: unknown };

/** `json_object` as OpenAI means it: any JSON object. */
const ANY_OBJECT = { type: 'object' };

/**
 * The constraint for a response format, compiled for this tokenizer (and cached per schema), or undefined for
 * plain text. An unsupported schema keyword throws an `InputError` naming it (a 400), before any generation.
 * The OpenAI surface passes `response_format` here as it came; generate functions pass `grammar` or `response_format`.
 */
export function compileResponseFormat(format: ResponseFormat | undefined, tokenizer: TextTokenizer): CompiledGrammar | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return compileJsonSchema(ANY_OBJECT, tokenizer);
  if (format.type === 'json_schema') {
    const schema = format.json_schema?.schema;
    if (schema === undefined) throw new InputError('invalid', 'response_format.json_schema.schema is required');
    return compileJsonSchema(schema, tokenizer);
  }
  if (format.type === 'json') return compileJsonSchema(format.value, tokenizer);
  throw new InputError('invalid', `response_format.type must be text, json_object or json_schema, not ${JSON.stringify((format as { type: unknown }).type)}`);
}

/**
 * The constraint for a zod schema (a function's answer schema), through zod's own JSON Schema conversion, so the
 * answer's TypeScript type and its grammar come from one declaration.
 */
export function compileZodSchema(schema: z.core.$ZodType, tokenizer: TextTokenizer): CompiledGrammar {
  return compileJsonSchema(convertZodSchema(schema), tokenizer);
}

/**
 * The constraint of one request: the function's own answer schema when it has one (and then the request may not
 * name another), else the request's `grammar` or `response_format`. Undefined for plain text.
 */
export function compileRequestGrammar(
  request: { grammar?: ResponseFormat; response_format?: ResponseFormat },
  functionSchema: z.core.$ZodType | undefined,
  tokenizer: TextTokenizer,
): CompiledGrammar | undefined {
  if (request.grammar && request.response_format) throw new InputError('invalid', 'parameters: give grammar or response_format, not both');
  if (functionSchema) {
    const field = request.grammar ? 'grammar' : request.response_format ? 'response_format' : undefined;
    if (field) throw new InputError('invalid', `parameters.${field}: not allowed, this function answers in its own schema (GET the function to see it)`);
    return compileZodSchema(functionSchema, tokenizer);
  }
  return compileResponseFormat(request.grammar ?? request.response_format, tokenizer);
}
