import * as z from 'zod/mini';
import { generateText, streamText, type DoneEvent, type GenerationEvent, type TokenEvent } from '../tasks/generate/generate-text.ts';
import type { GenerationOptions } from '../tasks/generate/generation-options.ts';
import { observeGeneration } from '../tasks/generate/generation-observer.ts';
import { buildPrompt } from '../tasks/generate/prompt.ts';
import { createTextGenerator, type TextGenerator } from '../tasks/generate/text-generator.ts';
import { InputError } from '../tasks/input-error.ts';
import type { TaskEndpoint } from '../spec/task-endpoint.ts';
import type { FunctionLimits } from '../spec/function-limits.ts';

/** The sampling parameters of the Hugging Face text-generation API, shared by generation and generative summaries. */
export const samplingShape = {
  max_new_tokens: z.optional(z.int().check(z.minimum(1))),
  do_sample: z.optional(z.boolean()),
  /** 0 means greedy. */
  temperature: z.optional(z.number().check(z.gte(0))),
  /** null or 0 keeps every token. */
  top_k: z.optional(z.nullable(z.int().check(z.minimum(0)))),
  top_p: z.optional(z.number().check(z.gt(0), z.lte(1))),
  repetition_penalty: z.optional(z.number().check(z.gt(0))),
  seed: z.optional(z.int().check(z.minimum(0))),
  /** honnx: how the request's text becomes the prompt, meant for a function's defaults. `{{input}}` marks the text. */
  prompt_template: z.optional(z.string().check(z.regex(/\{\{\s*input\s*\}\}/, 'must contain {{input}}'))),
  use_chat_template: z.optional(z.boolean()),
  system_prompt: z.optional(z.string()),
};

const generateParametersSchema = z.strictObject({
  ...samplingShape,
  stop: z.optional(z.array(z.string().check(z.minLength(1))).check(z.maxLength(16))),
  return_full_text: z.optional(z.boolean()),
  /** Also return why generation ended, how many tokens it made and the seed it used. */
  details: z.optional(z.boolean()),
});

/** The `parameters` a generate request may send (Hugging Face's text-generation names). */
export type GenerateParameters = z.infer<typeof generateParametersSchema>;

export type SamplingParameters = Pick<GenerateParameters, keyof typeof samplingShape>;

/** Why generation stopped, how many tokens it made and the seed it sampled with (`details: true`). */
export interface GenerationDetails {
  finish_reason: DoneEvent['finishReason'];
  generated_tokens: number;
  seed: number;
}

/** A generate request's answer when not streamed: the generated text, with details when asked for. */
export interface GenerateAnswer {
  generated_text: string;
  details?: GenerationDetails;
}

/** One server-sent event of a streamed answer, in text-generation-inference's shape. */
export interface GenerateStreamEvent {
  token: { id: number; text: string; logprob: number; special: boolean };
  generated_text: string | null;
  details: GenerationDetails | null;
}

const describeDetails = (done: DoneEvent): GenerationDetails => ({
  finish_reason: done.finishReason,
  generated_tokens: done.tokenIds.length,
  seed: done.seed,
});

function checkNewTokens(requested: number | undefined, limits: Required<FunctionLimits>): void {
  if (requested !== undefined && requested > limits.maxNewTokens) {
    throw new InputError('too_large', `max_new_tokens is ${requested}, over this function's limit of ${limits.maxNewTokens}`);
  }
}

export function toGenerationOptions(parameters: SamplingParameters, defaultMaxNewTokens: number, limits: Required<FunctionLimits>): GenerationOptions {
  checkNewTokens(parameters.max_new_tokens, limits);
  return {
    maxNewTokens: parameters.max_new_tokens ?? Math.min(defaultMaxNewTokens, limits.maxNewTokens),
    doSample: parameters.do_sample,
    temperature: parameters.temperature,
    topK: parameters.top_k ?? undefined,
    topP: parameters.top_p,
    repetitionPenalty: parameters.repetition_penalty,
    seed: parameters.seed,
  };
}

/**
 * Token events become text-generation-inference stream events. Each is held back by one, so that the
 * last token's event can carry the whole `generated_text`, as TGI's does.
 */
async function* toStreamEvents(events: AsyncIterable<GenerationEvent>, withDetails: boolean): AsyncGenerator<GenerateStreamEvent> {
  let pending: TokenEvent | undefined;
  const toEvent = (token: TokenEvent, done?: DoneEvent): GenerateStreamEvent => ({
    token: { id: token.id, text: token.text, logprob: token.logprob ?? 0, special: token.special },
    generated_text: done ? done.generatedText : null,
    details: done && withDetails ? describeDetails(done) : null,
  });
  for await (const event of events) {
    if (event.kind === 'token') {
      if (pending) yield toEvent(pending);
      pending = event;
    } else if (pending) {
      yield toEvent(pending, event);
    }
  }
}

/**
 * Text generation in the shape of the Hugging Face Inference API and text-generation-inference:
 * `{"inputs": "prompt", "parameters": {...}, "stream": bool}` → `[{"generated_text": "..."}]`, or
 * server-sent TGI stream events. Serves causal LMs and encoder-decoders alike.
 */
export const generateEndpoint: TaskEndpoint<TextGenerator, string, GenerateParameters, GenerateAnswer[]> = {
  task: 'generate',
  // An empty prompt is refused as every task refuses empty inputs (a model would otherwise start from BOS alone).
  inputsSchema: z.string().check(z.minLength(1, 'must not be empty')),
  parametersSchema: generateParametersSchema,
  defaultLimits: { maxBodyBytes: 256 << 10, maxInputs: 1, maxInputTokens: 2048, maxNewTokens: 256, maxSentences: 0 },
  oneSessionPerProcess: true,
  // A sequence holds at most the function's prompt limit plus its new-token limit: the memory check sizes the cache by it.
  prepare: (model, context) => createTextGenerator(model, context ? { contextTokens: context.limits.maxInputTokens + context.limits.maxNewTokens } : {}),
  async warmUp(generator) {
    await generateText(generator, 'Hello', { maxNewTokens: 2 });
  },
  describe: (generator) => ({
    kind: generator.model.kind,
    kv_cache: generator.model.hasCache,
    // Sequences decoded together: what the memory check at load found room for.
    max_batch_rows: generator.model.batched?.maxRows,
    max_sequence_length: generator.model.maxSequenceLength,
    limits: { maxInputTokens: generator.model.maxInputTokens },
    default_max_new_tokens: generator.defaults.maxNewTokens,
    eos_token_ids: generator.defaults.eosTokenIds,
    chat_template: generator.chatTemplate !== undefined,
    execution_provider: generator.model.executionProvider,
  }),
  async answer(generator, inputs, { parameters, limits, stream, signal, batching }) {
    const prompt = buildPrompt(generator, inputs, {
      template: parameters.prompt_template,
      useChatTemplate: parameters.use_chat_template,
      systemPrompt: parameters.system_prompt,
    });
    const options = {
      ...toGenerationOptions(parameters, generator.defaults.maxNewTokens, limits),
      stop: parameters.stop,
      returnFullText: parameters.return_full_text,
      maxPromptTokens: limits.maxInputTokens,
      signal,
      shareRuns: batching ?? true,
    };
    // Only streamed events carry log-probabilities, so only streams pay for them.
    if (stream) return toStreamEvents(streamText(generator, prompt, { ...options, withLogprobs: true }), parameters.details === true);
    const result = await generateText(generator, prompt, options);
    const answer: GenerateAnswer = { generated_text: result.generatedText };
    if (parameters.details) answer.details = describeDetails({ kind: 'done', ...result });
    return [answer];
  },
  // Concurrent requests on one model decode together in its shared step loop, up to this many at once.
  defaultServing: { batching: { maxBatchSize: 16 }, timeoutMilliseconds: 120_000 },
  observe: (generator, observer) => observeGeneration(generator.model, observer),
};
