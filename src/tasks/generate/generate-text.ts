import { InputError } from '../input-error.ts';
import { resolveGenerationOptions, type GenerationOptions } from './generation-options.ts';
import { generationObserverOf } from './generation-observer.ts';
import { createGenerationSequence, type DoneEvent, type GenerationEvent, type GenerationSequence, type SequenceSettings } from './generation-sequence.ts';
import type { Prompt } from './prompt.ts';
import { sharedStepLoop } from './step-loop.ts';
import type { TextGenerator } from './text-generator.ts';

export type { DoneEvent, FinishReason, GenerationEvent, TokenEvent } from './generation-sequence.ts';

/** One generation's settings: sampling and length (`GenerationOptions`), a stop signal and a prompt-token ceiling. */
export interface GenerateRequestOptions extends GenerationOptions {
  signal?: AbortSignal;
  /** A function's own ceiling on prompt tokens, below the model's. */
  maxPromptTokens?: number;
  /** Give each token event its log-probability (a pass over the vocabulary per token). On by default for streams. */
  withLogprobs?: boolean;
  /** Give each token event its text (on by default); `generateText` reads only the final text. */
  withTokenTexts?: boolean;
  /** Decode in the model's shared step loop, in one batch with the other generations in progress (the default where the model can). */
  shareRuns?: boolean;
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

/** A generation whose prompt is tokenized and checked, not started yet: `start()` joins the model's runs. */
export interface PreparedGeneration {
  /** Tokens of the prompt, as the model will see it. */
  readonly promptTokens: number;
  /** Starts generating: one event per token as soon as it is chosen, then a `done` event. Call it once. */
  start(): AsyncGenerator<GenerationEvent>;
}

/**
 * Tokenizes and checks a prompt (throws an InputError when it is empty or over its limit) without starting any
 * work, so that a request of several prompts can be refused whole before any of them takes a row of the batch.
 */
export function prepareGeneration(generator: TextGenerator, prompt: string | Prompt, options: GenerateRequestOptions = {}): PreparedGeneration {
  const resolved = resolveGenerationOptions(options, generator.defaults);
  const promptIds = encodePrompt(generator, prompt, options.maxPromptTokens);
  const promptText = typeof prompt === 'string' ? prompt : prompt.text;
  const settings = { promptText, promptTokens: promptIds.length, options: resolved, withLogprobs: options.withLogprobs ?? true, withTokenTexts: options.withTokenTexts };
  return {
    promptTokens: promptIds.length,
    start() {
      options.signal?.throwIfAborted();
      const loop = resolved.useCache && options.shareRuns !== false ? sharedStepLoop(generator.model) : undefined;
      if (loop) {
        const sequence = createGenerationSequence(generator, { ...settings, decoderIds: promptIds });
        return loop.generate(promptIds, sequence, { signal: options.signal });
      }
      return runAlone(generator, promptIds, settings, options.signal);
    },
  };
}

/**
 * Generates token by token: one event per token as soon as it is chosen, then a `done` event. Ends on an
 * end-of-sequence id, a stop string, `maxNewTokens` or the model's length, whichever comes first.
 * The prompt is checked before this returns, so a bad prompt throws here and not in the middle of a stream.
 * Where the model can decode in batches, the generation joins the model's shared step loop and runs in one
 * batch with every other generation in progress; its tokens are the ones it would get alone.
 */
export function streamText(generator: TextGenerator, prompt: string | Prompt, options: GenerateRequestOptions = {}): AsyncGenerator<GenerationEvent> {
  return prepareGeneration(generator, prompt, options).start();
}

/** One generation on its own: a run per token, for models that cannot join a batch (and the uncached reference). */
async function* runAlone(
  generator: TextGenerator,
  promptIds: number[],
  settings: Omit<SequenceSettings, 'decoderIds'>,
  signal: AbortSignal | undefined,
): AsyncGenerator<GenerationEvent> {
  const decoding = await generator.model.start(promptIds, { useCache: settings.options.useCache });
  const sequence: GenerationSequence = createGenerationSequence(generator, { ...settings, decoderIds: decoding.ids });
  const observer = generationObserverOf(generator.model);
  while (sequence.finishReason === undefined) {
    signal?.throwIfAborted();
    const started = performance.now();
    const scores = await decoding.nextScores();
    observer?.runCompleted(1, performance.now() - started);
    const event = sequence.accept(scores, decoding.ids, true);
    decoding.push(event.id);
    observer?.tokensGenerated(1);
    yield event;
  }
  yield sequence.finish();
}

/** A finished generation: its text, why it stopped and how many tokens it made. */
export type GenerationResult = Omit<DoneEvent, 'kind'>;

/** Generates to the end and returns the answer. */
export async function generateText(generator: TextGenerator, prompt: string | Prompt, options: GenerateRequestOptions = {}): Promise<GenerationResult> {
  // Nobody reads the token events' log-probabilities or texts here, so they are not computed unless asked for.
  return finishGeneration(streamText(generator, prompt, { withLogprobs: false, withTokenTexts: false, ...options }));
}

/** Reads a generation's events to its end and returns its result. */
export async function finishGeneration(events: AsyncIterable<GenerationEvent>): Promise<GenerationResult> {
  for await (const event of events) {
    if (event.kind === 'done') {
      const { kind: _kind, ...result } = event;
      return result;
    }
  }
  throw new Error('generation ended without a result');
}
