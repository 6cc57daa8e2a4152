import { InputError } from '../input-error.ts';
import { chooseNextToken, type TokenChoice } from './choose-next-token.ts';
import { resolveGenerationOptions, type GenerationOptions, type ResolvedGenerationOptions } from './generation-options.ts';
import { createIncrementalTextDecoder } from './incremental-text.ts';
import type { Prompt } from './prompt.ts';
import { createRandomSeed, createSeededRandom, type RandomSource } from './seeded-random.ts';
import { createStopStringFilter } from './stop-strings.ts';
import type { TextGenerator } from './text-generator.ts';

export type FinishReason = 'length' | 'eos_token' | 'stop_sequence';

/** One generated token and the text it adds to the answer (possibly "", while a character or stop string is incomplete). */
export interface TokenEvent {
  kind: 'token';
  id: number;
  text: string;
  logprob: number;
  special: boolean;
}

/** The last event of every generation. */
export interface DoneEvent {
  kind: 'done';
  /** The answer: the texts of the token events joined, behind the prompt when `returnFullText` was asked. */
  generatedText: string;
  finishReason: FinishReason;
  /** Every generated id, in order, the end-of-sequence token included. */
  tokenIds: number[];
  promptTokens: number;
  /** The seed sampling used (one is drawn when none was given). */
  seed: number;
}

export type GenerationEvent = TokenEvent | DoneEvent;

export interface GenerateRequestOptions extends GenerationOptions {
  signal?: AbortSignal;
  /** A function's own ceiling on prompt tokens, below the model's. */
  maxPromptTokens?: number;
}

/** Tokenizes the prompt and checks it against the model's length. */
export function encodePrompt(generator: TextGenerator, prompt: string | Prompt, maxPromptTokens = Infinity): number[] {
  const { text, addSpecialTokens } = typeof prompt === 'string' ? { text: prompt, addSpecialTokens: true } : prompt;
  let ids = generator.tokenizer.encode(text, { addSpecialTokens }).ids;
  if (ids.length === 0) {
    // transformers' generate starts an empty prompt from BOS as well.
    if (generator.model.kind === 'decoder-only' && generator.bosTokenId !== undefined) ids = [generator.bosTokenId];
    else throw new InputError('empty', 'the prompt is empty');
  }
  const modelLimit = generator.model.maxInputTokens;
  const limit = Math.min(modelLimit, maxPromptTokens);
  if (ids.length > limit) {
    const whose = limit < modelLimit ? "this function's" : "this model's";
    throw new InputError('too_large', `the prompt is ${ids.length} tokens, over ${whose} limit of ${limit}`);
  }
  return ids;
}

function isSpecialToken(generator: TextGenerator, id: number, eosTokenIds: readonly number[]): boolean {
  return eosTokenIds.includes(id) || Object.values(generator.tokenizer.specialIds).includes(id);
}

/**
 * Generates token by token: one event per token as soon as it is chosen, then a `done` event. Ends on an
 * end-of-sequence id, a stop string, `maxNewTokens` or the model's length, whichever comes first.
 * The prompt is checked before this returns, so a bad prompt throws here and not in the middle of a stream.
 */
export function streamText(generator: TextGenerator, prompt: string | Prompt, options: GenerateRequestOptions = {}): AsyncGenerator<GenerationEvent> {
  const resolved = resolveGenerationOptions(options, generator.defaults);
  const promptIds = encodePrompt(generator, prompt, options.maxPromptTokens);
  const promptText = typeof prompt === 'string' ? prompt : prompt.text;
  return runGeneration(generator, promptText, promptIds, resolved, options.signal);
}

async function* runGeneration(
  generator: TextGenerator,
  promptText: string,
  promptIds: number[],
  resolved: ResolvedGenerationOptions,
  signal: AbortSignal | undefined,
): AsyncGenerator<GenerationEvent> {
  const seed = resolved.seed ?? createRandomSeed();
  const random = createSeededRandom(seed);
  const decoding = await generator.model.start(promptIds, { useCache: resolved.useCache });
  const decoder = createIncrementalTextDecoder(generator.tokenizer, decoding.ids);
  const stops = createStopStringFilter(resolved.stop);
  const endIds = new Set(resolved.eosTokenIds);
  const limit = Math.min(resolved.maxNewTokens, generator.model.maxSequenceLength - decoding.ids.length);
  const tokenIds: number[] = [];
  let finishReason: FinishReason | undefined = limit <= 0 ? 'length' : undefined;

  while (finishReason === undefined) {
    signal?.throwIfAborted();
    const scores = await decoding.nextScores();
    const choice = chooseToken(generator, scores, decoding.ids, tokenIds.length, resolved, random);
    decoding.push(choice.id);
    tokenIds.push(choice.id);
    const ended = endIds.has(choice.id);
    let released = stops.push(ended ? '' : decoder.push(choice.id));
    let text = released.text;
    if (released.stopped) finishReason = 'stop_sequence';
    else if (ended) finishReason = 'eos_token';
    else if (tokenIds.length >= limit) finishReason = 'length';
    if (finishReason === 'eos_token' || finishReason === 'length') {
      // Release what was held back: a character's first bytes, or text that looked like the start of a stop string.
      released = stops.push(decoder.flush());
      text += released.text;
      if (released.stopped) finishReason = 'stop_sequence';
      else text += stops.flush();
    }
    yield { kind: 'token', id: choice.id, text, logprob: choice.logprob, special: isSpecialToken(generator, choice.id, resolved.eosTokenIds) };
  }

  const withPrompt = resolved.returnFullText && generator.model.kind === 'decoder-only';
  yield {
    kind: 'done',
    generatedText: withPrompt ? promptText + stops.text : stops.text,
    finishReason,
    tokenIds,
    promptTokens: promptIds.length,
    seed,
  };
}

/** The model's forced first token where it has one; end-of-sequence kept out until `minNewTokens`; else the sampler's pick. */
function chooseToken(
  generator: TextGenerator,
  scores: Float32Array,
  sequence: readonly number[],
  generated: number,
  options: ResolvedGenerationOptions,
  random: RandomSource,
): TokenChoice {
  if (generated === 0 && generator.forcedBosTokenId !== undefined) return { id: generator.forcedBosTokenId, logprob: 0 };
  const suppressed = generated < options.minNewTokens ? options.eosTokenIds : [];
  return chooseNextToken(scores, sequence, { ...options, suppressedIds: suppressed }, random);
}

export type GenerationResult = Omit<DoneEvent, 'kind'>;

/** Generates to the end and returns the answer. */
export async function generateText(generator: TextGenerator, prompt: string | Prompt, options: GenerateRequestOptions = {}): Promise<GenerationResult> {
  for await (const event of streamText(generator, prompt, options)) {
    if (event.kind === 'done') {
      const { kind: _kind, ...result } = event;
      return result;
    }
  }
  throw new Error('generation ended without a result');
}
