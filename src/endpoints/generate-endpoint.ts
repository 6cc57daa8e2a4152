import * as z from 'zod/mini';
import { finishGeneration, generateText, prepareGeneration, type DoneEvent, type GenerateRequestOptions, type GenerationEvent, type PreparedGeneration, type TokenEvent } from '../tasks/generate/generate-text.ts';
import type { GenerationOptions } from '../tasks/generate/generation-options.ts';
import type { StructuredResult } from '../tasks/generate/token-constraint.ts';
import { observeGeneration } from '../tasks/generate/generation-observer.ts';
import { buildPrompt, type PromptInput, type PromptStyle } from '../tasks/generate/prompt.ts';
import { createTextGenerator, type TextGenerator } from '../tasks/generate/text-generator.ts';
import { InputError } from '../tasks/input-error.ts';
import { compileRequestGrammar } from '../tasks/structured/response-format.ts';
import type { TaskEndpoint } from '../spec/task-endpoint.ts';
import type { FunctionLimits } from '../spec/function-limits.ts';
import { structuredOutputShape } from './structured-output-shape.ts';
import { addConfidence, collectConfidence, confidenceShape, withoutConfidence, type ConfidenceFields } from './answer-confidence.ts';
import type { AnswerConfidence } from '../spec/task-endpoint.ts';
import type { TokenConfidence } from '../tasks/generate/token-confidence.ts';

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
  /** OpenAI's (and text-generation-inference's): lowers a token's score by this much per time it was generated already. */
  frequency_penalty: z.optional(z.number().check(z.gte(-2), z.lte(2))),
  /** OpenAI's: lowers the score of every token generated already by this much, once. */
  presence_penalty: z.optional(z.number().check(z.gte(-2), z.lte(2))),
  seed: z.optional(z.int().check(z.minimum(0))),
  /** honnx: how the request's text becomes the prompt, meant for a function's defaults. `{{input}}` marks the text. */
  prompt_template: z.optional(z.string().check(z.regex(/\{\{\s*input\s*\}\}/, 'must contain {{input}}'))),
  use_chat_template: z.optional(z.boolean()),
  system_prompt: z.optional(z.string()),
};

const generateParametersSchema = z.strictObject({
  ...samplingShape,
  ...structuredOutputShape,
  stop: z.optional(z.array(z.string().check(z.minLength(1))).check(z.maxLength(16))),
  return_full_text: z.optional(z.boolean()),
  /** Also return why generation ended, how many tokens it made and the seed it used. */
  details: z.optional(z.boolean()),
  /**
   * text-generation-inference's: each token's log-probability and the n most likely tokens of its step (0-20), in
   * stream events (`top_tokens`) and in `details.tokens` / `details.top_tokens`.
   */
  top_n_tokens: z.optional(z.int().check(z.minimum(0), z.maximum(20))),
  ...confidenceShape,
});

/** One prompt of `inputs`. */
const promptSchema = z.string().check(z.minLength(1, 'must not be empty'));

/** The `parameters` a generate request may send (Hugging Face's text-generation names). */
export type GenerateParameters = z.infer<typeof generateParametersSchema>;

export type SamplingParameters = Pick<GenerateParameters, keyof typeof samplingShape>;

/** One generated token, as text-generation-inference describes it. */
export interface GeneratedToken {
  id: number;
  text: string;
  logprob: number;
  special: boolean;
}

/** Why generation stopped, how many tokens it made and the seed it sampled with (`details: true`). */
export interface GenerationDetails {
  finish_reason: DoneEvent['finishReason'];
  generated_tokens: number;
  /** honnx: how many tokens the prompt was, as the model saw it (chat template and special tokens included). */
  prompt_tokens: number;
  seed: number;
  /** With `top_n_tokens`: every generated token, and the most likely tokens of each step. */
  tokens?: GeneratedToken[];
  top_tokens?: GeneratedToken[][];
}

/** How a constrained answer ended, and its parsed value (of type `Value`: the function's schema) when valid. */
export interface StructuredAnswer<Value = unknown> {
  complete: boolean;
  valid: boolean;
  /** Why it is not valid. */
  error?: string;
  /** The parsed value, when valid: what `JSON.parse(generated_text)` gives, checked against the schema. */
  value?: Value;
}

/** A generate request's answer when not streamed: the generated text, with details when asked for. */
export interface GenerateAnswer<Value = unknown> extends Partial<ConfidenceFields> {
  generated_text: string;
  details?: GenerationDetails;
  /**
   * With a grammar: whether the answer is a complete value that JSON.parse and a schema validator accept. An
   * answer cut short by max_new_tokens has finish_reason "length" and `valid: false`.
   */
  structured?: StructuredAnswer<Value>;
}

/** One server-sent event of a streamed answer, in text-generation-inference's shape. */
export interface GenerateStreamEvent {
  token: GeneratedToken;
  /** With `top_n_tokens`: the most likely tokens of this step, best first. */
  top_tokens?: GeneratedToken[];
  generated_text: string | null;
  details: GenerationDetails | null;
  /** On the last event, under a grammar: as a non-streamed answer's `structured`, the parsed value included. */
  structured?: StructuredAnswer;
  /** On the last event, with `return_confidence`: the answer's confidence (docs/architecture.md, "Confidence"). */
  confidence?: number;
  /** On the last event, with `return_confidence` and `min_confidence`: the confidence is under it. */
  low_confidence?: boolean;
}

const describeDetails = (done: DoneEvent): GenerationDetails => ({
  finish_reason: done.finishReason,
  generated_tokens: done.tokenIds.length,
  prompt_tokens: done.promptTokens,
  seed: done.seed,
});

const describeStructured = ({ complete, valid, error, value }: StructuredResult): StructuredAnswer => ({
  complete,
  valid,
  ...(error !== undefined && { error }),
  ...(valid && { value }),
});

const describeToken = (token: TokenEvent): GeneratedToken => ({ id: token.id, text: token.text, logprob: token.logprob ?? 0, special: token.special });

const describeTopTokens = (token: TokenEvent, specialIds: ReadonlySet<number>): GeneratedToken[] =>
  (token.top ?? []).map(({ id, text, logprob }) => ({ id, text, logprob, special: specialIds.has(id) }));

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
    frequencyPenalty: parameters.frequency_penalty,
    presencePenalty: parameters.presence_penalty,
    seed: parameters.seed,
  };
}

/** An answer with every token's log-probability and its step's most likely tokens (`top_n_tokens`). */
async function generateWithTokens(generator: TextGenerator, events: AsyncIterable<GenerationEvent>, specialIds: ReadonlySet<number>, parameters: GenerateParameters): Promise<GenerateAnswer> {
  const tokens: GeneratedToken[] = [];
  const topTokens: GeneratedToken[][] = [];
  for await (const event of events) {
    if (event.kind === 'token') {
      tokens.push(describeToken(event));
      topTokens.push(describeTopTokens(event, specialIds));
    } else {
      const answer: GenerateAnswer = { generated_text: event.generatedText, details: { ...describeDetails(event), tokens, top_tokens: topTokens } };
      if (event.structured) answer.structured = describeStructured(event.structured);
      return withAnswerConfidence(answer, event, parameters);
    }
  }
  throw new Error(`generation on ${generator.name} ended without a result`);
}

/** Ids the model's tokenizer counts as special, for the `special` flag of alternative tokens. */
const specialIdsOf = (generator: TextGenerator): ReadonlySet<number> =>
  new Set([...generator.defaults.eosTokenIds, ...Object.values(generator.tokenizer.specialIds).filter((id): id is number => id !== undefined)]);

/**
 * The one number a generation's confidence is: under a grammar, the lowest token probability (a value's weakest
 * choice, as generative extract reads it); for free text, the geometric mean (as a generative summary reads it).
 */
export const readAnswerConfidence = (confidence: TokenConfidence, constrained: boolean): number => (constrained ? confidence.lowest : confidence.geometricMean);

/** How a stream's last event carries its confidence: which number to read, and the threshold to flag it against. */
export interface StreamConfidence {
  constrained: boolean;
  minConfidence: number | undefined;
}

/**
 * Token events become text-generation-inference stream events. Each is held back by one, so that the
 * last token's event can carry the whole `generated_text`, as TGI's does, and the answer's confidence (which the
 * function host reads, and hides unless `return_confidence`: `separateStreamEventConfidence`).
 */
export async function* toStreamEvents(
  events: AsyncIterable<GenerationEvent>,
  withDetails: boolean,
  specialIds?: ReadonlySet<number>,
  confidence: StreamConfidence = { constrained: false, minConfidence: undefined },
): AsyncGenerator<GenerateStreamEvent> {
  let pending: TokenEvent | undefined;
  const toEvent = (token: TokenEvent, done?: DoneEvent): GenerateStreamEvent => {
    const event: GenerateStreamEvent = {
      token: describeToken(token),
      generated_text: done ? done.generatedText : null,
      details: done && withDetails ? describeDetails(done) : null,
    };
    if (specialIds) event.top_tokens = describeTopTokens(token, specialIds);
    if (done?.structured) event.structured = describeStructured(done.structured);
    if (done?.confidence) return addConfidence(event, readAnswerConfidence(done.confidence, confidence.constrained), confidence.minConfidence);
    return event;
  };
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
 * A stream event as the request asked to see it, and the confidence its last event carries (for the log line and
 * `honnx_answer_confidence`): shown with `return_confidence`, else taken off the event.
 */
export function separateStreamEventConfidence(event: GenerateStreamEvent, parameters: { return_confidence?: boolean }): { event: unknown; confidence?: AnswerConfidence } {
  if (event.confidence === undefined) return { event };
  const confidence = collectConfidence([event]);
  return { event: parameters.return_confidence ? event : withoutConfidence(event), confidence };
}

/** A list of texts, each a prompt of its own (`"inputs": ["a", "b"]`); a conversation is a list of message objects. */
const isTextList = (inputs: GenerateInputs): inputs is string[] => Array.isArray(inputs) && inputs.length > 0 && inputs.every((input) => typeof input === 'string');

/**
 * Prepares every prompt of a request (tokenized and checked against the function's limits) before any of them
 * starts, so that a list with one prompt too long is refused whole, having cost no generation. A refusal names
 * the input it is about (`inputs[2]: ...`).
 */
function prepareAll(generator: TextGenerator, texts: readonly string[], style: PromptStyle, options: GenerateRequestOptions): PreparedGeneration[] {
  return texts.map((text, index) => {
    try {
      return prepareGeneration(generator, buildPrompt(generator, text, style), options);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(error.reason, `inputs[${index}]: ${error.message}`);
      throw error;
    }
  });
}

/** One prompt's non-streamed answer: its text, with details, token log-probabilities and structure as asked. */
async function answerGeneration(generator: TextGenerator, prepared: PreparedGeneration, parameters: GenerateParameters, specialIds: ReadonlySet<number> | undefined): Promise<GenerateAnswer> {
  if (specialIds) return generateWithTokens(generator, prepared.start(), specialIds, parameters);
  const result = await finishGeneration(prepared.start());
  const answer: GenerateAnswer = { generated_text: result.generatedText };
  if (parameters.details) answer.details = describeDetails({ kind: 'done', ...result });
  if (result.structured) answer.structured = describeStructured(result.structured);
  return withAnswerConfidence(answer, result, parameters);
}

/** Whether the request asked about its answer's confidence: only then does a non-streamed answer pay for log-probabilities. */
const asksConfidence = (parameters: GenerateParameters) => parameters.return_confidence === true || parameters.min_confidence !== undefined;

/** The answer with its confidence, where the request asked for it (the function host reads it, and hides it unless shown). */
function withAnswerConfidence(answer: GenerateAnswer, done: Pick<DoneEvent, 'confidence' | 'structured'>, parameters: GenerateParameters): GenerateAnswer {
  if (!done.confidence || !asksConfidence(parameters)) return answer;
  return addConfidence(answer, readAnswerConfidence(done.confidence, done.structured !== undefined), parameters.min_confidence);
}

/** What a generate request's `inputs` may be: a prompt, a conversation (the OpenAI routes), or a list of prompts. */
export type GenerateInputs = PromptInput | string[];

/**
 * Text generation in the shape of the Hugging Face Inference API and text-generation-inference:
 * `{"inputs": "prompt", "parameters": {...}, "stream": bool}` → `[{"generated_text": "..."}]`, or
 * server-sent TGI stream events. Serves causal LMs and encoder-decoders alike.
 */
export const generateEndpoint: TaskEndpoint<TextGenerator, GenerateInputs, GenerateParameters, GenerateAnswer[] | GenerateAnswer[][]> = {
  task: 'generate',
  // An empty prompt is refused as every task refuses empty inputs (a model would otherwise start from BOS alone).
  // A list of prompts is answered as the Hugging Face pipeline answers one: a `[{generated_text}]` list per prompt.
  inputsSchema: z.union([promptSchema, z.array(promptSchema).check(z.minLength(1, 'must hold at least one text'))]),
  parametersSchema: generateParametersSchema,
  defaultLimits: { maxBodyBytes: 256 << 10, maxInputs: 8, maxInputTokens: 2048, maxNewTokens: 256, maxSentences: 0 },
  oneSessionPerProcess: true,
  // A sequence holds at most the function's prompt limit plus its new-token limit: the memory check sizes the cache by it.
  prepare: (model, context) => createTextGenerator(model, context ? { contextTokens: context.limits.maxInputTokens + context.limits.maxNewTokens } : {}),
  async warmUp(generator) {
    await generateText(generator, 'Hello', { maxNewTokens: 2 });
  },
  refusesLongInputs: () => true,
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
  async answer(generator, inputs, { parameters, limits, stream, signal, batching, schema }) {
    const style: PromptStyle = { template: parameters.prompt_template, useChatTemplate: parameters.use_chat_template, systemPrompt: parameters.system_prompt };
    const texts = isTextList(inputs) ? inputs : undefined;
    if (texts && stream) {
      throw new InputError('invalid', `stream: true takes one text in inputs, and this request has a list of ${texts.length}: send one request per text, or leave stream out`);
    }
    const grammar = compileRequestGrammar(parameters, schema, generator.tokenizer);
    const topLogprobs = parameters.top_n_tokens;
    // Only streams and top_n_tokens read log-probabilities and token texts, so only they pay for them (and a
    // request asking for its confidence, for the log-probabilities).
    const withTokens = stream || topLogprobs !== undefined;
    const options: GenerateRequestOptions = {
      ...toGenerationOptions(parameters, generator.defaults.maxNewTokens, limits),
      topLogprobs,
      grammar,
      stop: parameters.stop,
      returnFullText: parameters.return_full_text,
      maxPromptTokens: limits.maxInputTokens,
      signal,
      shareRuns: batching ?? true,
      withLogprobs: withTokens || asksConfidence(parameters),
      withTokenTexts: withTokens,
    };
    const specialIds = topLogprobs === undefined ? undefined : specialIdsOf(generator);
    if (texts) {
      // Every prompt is checked before the first starts; then they decode side by side in the shared step loop.
      const prepared = prepareAll(generator, texts, style, options);
      return Promise.all(prepared.map(async (generation) => [await answerGeneration(generator, generation, parameters, specialIds)]));
    }
    const prepared = prepareGeneration(generator, buildPrompt(generator, inputs as PromptInput, style), options);
    if (stream) return toStreamEvents(prepared.start(), parameters.details === true, specialIds, { constrained: grammar !== undefined, minConfidence: parameters.min_confidence });
    return [await answerGeneration(generator, prepared, parameters, specialIds)];
  },
  // Only answers asked about their confidence carry one (`return_confidence`, `min_confidence`; the /v1 routes ask).
  separateConfidence(answers, parameters) {
    const confidence = collectConfidence((answers as (GenerateAnswer | GenerateAnswer[])[]).flat());
    if (confidence.confidences.length === 0 || parameters.return_confidence) return { answer: answers, confidence };
    return { answer: answers.map((answer) => (Array.isArray(answer) ? answer.map(withoutConfidence) : withoutConfidence(answer))), confidence };
  },
  separateEventConfidence: (event, parameters) => separateStreamEventConfidence(event as GenerateStreamEvent, parameters),
  // Concurrent requests on one model decode together in its shared step loop, up to this many at once.
  defaultServing: { batching: { maxBatchSize: 16 }, timeoutMilliseconds: 120_000 },
  observe: (generator, observer) => observeGeneration(generator.model, observer),
};
