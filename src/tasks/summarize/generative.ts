import type { ModelBundle } from '../../models/model-bundle.ts';
import { finishGeneration, prepareGeneration, type GenerateRequestOptions, type GenerationEvent, type GenerationResult, type PreparedGeneration } from '../generate/generate-text.ts';
import { buildPrompt, fillPromptTemplate, type Prompt, type PromptStyle } from '../generate/prompt.ts';
import { createTextGenerator, type TextGenerator } from '../generate/text-generator.ts';

/** What `summarization` in config.json `task_specific_params` may say (T5, BART, Pegasus). */
export interface SummarizationParams {
  prefix?: string;
  max_length?: number;
  min_length?: number;
}

/** A sequence-to-sequence summarization model ready to write summaries. */
export interface GenerativeSummarizer {
  readonly kind: 'generative';
  readonly generator: TextGenerator;
  readonly taskParams: SummarizationParams;
}

/** Asked of a chat model when the function gives no template of its own. */
export const DEFAULT_SUMMARY_INSTRUCTION = 'Summarize the following text in a few sentences.\n\n{{input}}';
/** For plain causal models: the zero-shot summarization cue of the GPT-2 paper. */
export const DEFAULT_PLAIN_SUMMARY_TEMPLATE = '{{input}}\n\nTL;DR:';

const DEFAULT_SUMMARY_TOKENS = 64;

/** The instruction a chat model gets for a summary of about `sentences` sentences (a soft target: asked, not cut to). */
export const describeSentenceTarget = (sentences: number) =>
  `Summarize the following text in ${sentences === 1 ? 'one sentence' : `${sentences} sentences`}.\n\n{{input}}`;

/** How a generative summary is written: generation settings, the prompt's style and a length to ask for. */
export interface GenerativeSummaryOptions extends GenerateRequestOptions, PromptStyle {
  /** Sentences to ask a chat model for, in the default instruction; the length budget stays `maxNewTokens`. */
  sentences?: number;
}

/** A written summary and how sure the model was of it. */
export interface GenerativeSummary extends Omit<GenerationResult, 'confidence'> {
  /**
   * The geometric mean of the generated tokens' probabilities (end of sequence left out), each under the
   * distribution the token was chosen from: exp of the mean log-probability, in [0, 1].
   */
  confidence: number;
}

function readSummarizationParams(model: ModelBundle): SummarizationParams {
  const taskParams = model.config.task_specific_params as Record<string, unknown> | undefined;
  const summarization = taskParams?.summarization;
  return summarization && typeof summarization === 'object' ? (summarization as SummarizationParams) : {};
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** Opens a sequence-to-sequence summarization model and reads its summarization settings, for `summarizeGeneratively`. */
export async function createGenerativeSummarizer(model: ModelBundle): Promise<GenerativeSummarizer> {
  return { kind: 'generative', generator: await createTextGenerator(model), taskParams: readSummarizationParams(model) };
}

/**
 * The prompt for one document. An encoder-decoder reads the text itself, behind the prefix its config asks
 * for (T5's "summarize: "); a causal model is asked in its chat template when it has one, else with "TL;DR:".
 */
export function buildSummaryPrompt(summarizer: GenerativeSummarizer, text: string, style: PromptStyle & { sentences?: number } = {}): Prompt {
  const { generator } = summarizer;
  if (generator.model.kind === 'encoder-decoder') {
    const content = style.template === undefined ? (summarizer.taskParams.prefix ?? '') + text : fillPromptTemplate(style.template, text);
    return { text: content, addSpecialTokens: true };
  }
  const useChatTemplate = style.useChatTemplate ?? generator.chatTemplate !== undefined;
  const chatInstruction = style.sentences === undefined ? DEFAULT_SUMMARY_INSTRUCTION : describeSentenceTarget(style.sentences);
  const template = style.template ?? (useChatTemplate ? chatInstruction : DEFAULT_PLAIN_SUMMARY_TEMPLATE);
  return buildPrompt(generator, text, { template, useChatTemplate, systemPrompt: style.systemPrompt });
}

/** Summary lengths from `task_specific_params` (where max_length and min_length count the start token), else 64 new tokens. */
export function readSummaryLengths(summarizer: GenerativeSummarizer): { maxNewTokens: number; minNewTokens: number } {
  const { max_length: maxLength, min_length: minLength } = summarizer.taskParams;
  const isEncoderDecoder = summarizer.generator.model.kind === 'encoder-decoder';
  return {
    maxNewTokens: isEncoderDecoder && maxLength ? maxLength - 1 : DEFAULT_SUMMARY_TOKENS,
    minNewTokens: isEncoderDecoder && minLength ? Math.max(0, minLength - 1) : 0,
  };
}

/**
 * A summary's generation, its prompt tokenized and checked against the limits (an InputError if it is over) before
 * any work starts: `start()` then yields its tokens and a `done` event, the text trimmed of the whitespace a model
 * writes around it (leading whitespace dropped, trailing whitespace held back until more text follows), so that
 * a stream's token texts join to the summary itself.
 */
export function prepareSummary(summarizer: GenerativeSummarizer, text: string, options: GenerativeSummaryOptions = {}): PreparedGeneration {
  const { template, useChatTemplate, systemPrompt, sentences, ...generation } = options;
  const prompt = buildSummaryPrompt(summarizer, text, { template, useChatTemplate, systemPrompt, sentences });
  const prepared = prepareGeneration(summarizer.generator, prompt, {
    ...readSummaryLengths(summarizer),
    ...withoutUndefined(generation),
    returnFullText: false,
    withLogprobs: true,
  });
  return { promptTokens: prepared.promptTokens, start: () => trimGeneratedText(prepared.start()) };
}

async function* trimGeneratedText(events: AsyncIterable<GenerationEvent>): AsyncGenerator<GenerationEvent> {
  let started = false;
  let held = '';
  for await (const event of events) {
    if (event.kind === 'done') {
      yield { ...event, generatedText: event.generatedText.trim() };
      return;
    }
    let text = event.text;
    if (!started) {
      text = text.trimStart();
      started = text !== '';
    }
    const joined = held + text;
    const kept = joined.trimEnd();
    held = joined.slice(kept.length);
    yield { ...event, text: kept };
  }
}

/** Writes a summary of `text` with a generative summarizer (the model's own prefix and length settings unless `options` say otherwise). */
export async function summarizeGeneratively(
  summarizer: GenerativeSummarizer,
  text: string,
  options: GenerativeSummaryOptions = {},
): Promise<GenerativeSummary> {
  // Only the end is read: the token texts are not decoded one by one.
  const result = await finishGeneration(prepareSummary(summarizer, text, { withTokenTexts: false, ...options }).start());
  return { ...result, confidence: result.confidence?.geometricMean ?? 1 };
}
