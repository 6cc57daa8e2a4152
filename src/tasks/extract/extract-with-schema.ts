import * as z from 'zod/mini';
import { streamText, type FinishReason } from '../generate/generate-text.ts';
import { buildPrompt, fillPromptTemplate } from '../generate/prompt.ts';
import type { TextGenerator } from '../generate/text-generator.ts';
import { InputError } from '../input-error.ts';
import { compileZodSchema } from '../structured/response-format.ts';
import { convertZodSchema } from '../structured/zod-json-schema.ts';

/** Asked of a chat model: `{{schema}}` becomes the answer's JSON Schema, `{{input}}` the request's text. */
export const DEFAULT_EXTRACT_INSTRUCTION = 'Extract from the text the JSON value this JSON Schema describes. Answer with the JSON only.\n\nSchema: {{schema}}\n\nText: {{input}}';
/** For a model without a chat template: the value follows "JSON:". */
export const DEFAULT_PLAIN_EXTRACT_TEMPLATE = 'Text: {{input}}\nSchema: {{schema}}\nJSON:';

const SCHEMA_SLOT = /\{\{\s*schema\s*\}\}/g;

/** How one extraction is asked and bounded. */
export interface SchemaExtractionOptions {
  /** The prompt's text, with `{{input}}` and optionally `{{schema}}`; the default for the model's kind otherwise. */
  instruction?: string;
  systemPrompt?: string;
  maxNewTokens: number;
  maxPromptTokens?: number;
  signal?: AbortSignal;
  /** Decode in the model's shared step loop with the other generations in progress (the default where it can). */
  shareRuns?: boolean;
}

/** A value the schema accepts, and how sure the model was of it. */
export interface SchemaExtraction<Value = unknown> {
  value: Value;
  /**
   * The lowest probability of any token of the value, each under the distribution left once the schema's grammar
   * masked what it refuses (a token the grammar forces has probability 1): the weakest choice the model made.
   */
  confidence: number;
  /** Each value token's probability, in order (the end-of-sequence token, where one ended it, left out). */
  tokenProbabilities: number[];
  generatedText: string;
  finishReason: FinishReason;
}

/** The prompt a text is extracted with: the instruction (with the schema) in the chat template, or the plain template. */
export function buildExtractPrompt(generator: TextGenerator, text: string, schema: z.core.$ZodType, options: Pick<SchemaExtractionOptions, 'instruction' | 'systemPrompt'> = {}) {
  const chat = generator.chatTemplate !== undefined;
  const template = (options.instruction ?? (chat ? DEFAULT_EXTRACT_INSTRUCTION : DEFAULT_PLAIN_EXTRACT_TEMPLATE)).replace(SCHEMA_SLOT, () =>
    JSON.stringify(withoutDialect(convertZodSchema(schema))),
  );
  return buildPrompt(generator, fillPromptTemplate(template, text), { useChatTemplate: chat, systemPrompt: options.systemPrompt });
}

/** The `$schema` line tells a model nothing and costs tokens. */
function withoutDialect(jsonSchema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = jsonSchema;
  return rest;
}

/**
 * Writes the value of `schema` that the text holds: greedy decoding under the schema's grammar (so the answer is
 * always JSON the schema accepts, or refused), then parsed by the zod schema itself, whose type the value has.
 * An answer cut short by `maxNewTokens` is refused with a 413 naming the limit, never passed off as a value.
 */
export async function extractWithSchema<Schema extends z.core.$ZodType>(
  generator: TextGenerator,
  text: string,
  schema: Schema,
  options: SchemaExtractionOptions,
): Promise<SchemaExtraction<z.output<Schema>>> {
  const grammar = compileZodSchema(schema, generator.tokenizer);
  const prompt = buildExtractPrompt(generator, text, schema, options);
  const endIds = new Set(generator.defaults.eosTokenIds);
  const tokenProbabilities: number[] = [];
  const events = streamText(generator, prompt, {
    grammar,
    doSample: false,
    maxNewTokens: options.maxNewTokens,
    maxPromptTokens: options.maxPromptTokens,
    signal: options.signal,
    shareRuns: options.shareRuns,
    withLogprobs: true,
    withTokenTexts: false,
  });
  for await (const event of events) {
    if (event.kind === 'token') {
      if (!endIds.has(event.id)) tokenProbabilities.push(Math.exp(event.logprob ?? 0));
      continue;
    }
    const structured = event.structured;
    if (!structured?.valid) {
      if (event.finishReason === 'length') {
        throw new InputError('too_large', `the answer did not fit in max_new_tokens (${options.maxNewTokens} tokens); send a larger max_new_tokens, up to the function's limits.maxNewTokens`);
      }
      throw new Error(`model ${generator.name} wrote an answer its schema refuses: ${structured?.error ?? 'no structured result'}`);
    }
    // The grammar holds the JSON Schema; zod's own checks (refinements, transforms) run here and give the value its type.
    const parsed = z.safeParse(schema, structured.value);
    if (!parsed.success) throw new Error(`model ${generator.name} wrote a value the function's schema refuses: ${parsed.error.message}`);
    return {
      value: parsed.data as z.output<Schema>,
      confidence: tokenProbabilities.length === 0 ? 1 : Math.min(...tokenProbabilities),
      tokenProbabilities,
      generatedText: event.generatedText,
      finishReason: event.finishReason,
    };
  }
  throw new Error('generation ended without a result');
}
