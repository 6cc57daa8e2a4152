import type { ModelBundle } from '../../models/model-bundle.ts';
import { generateText, type GenerateRequestOptions, type GenerationResult } from '../generate/generate-text.ts';
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

/** How a generative summary is written: generation settings and the prompt's style. */
export interface GenerativeSummaryOptions extends GenerateRequestOptions, PromptStyle {}

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
export function buildSummaryPrompt(summarizer: GenerativeSummarizer, text: string, style: PromptStyle = {}): Prompt {
  const { generator } = summarizer;
  if (generator.model.kind === 'encoder-decoder') {
    const content = style.template === undefined ? (summarizer.taskParams.prefix ?? '') + text : fillPromptTemplate(style.template, text);
    return { text: content, addSpecialTokens: true };
  }
  const useChatTemplate = style.useChatTemplate ?? generator.chatTemplate !== undefined;
  const template = style.template ?? (useChatTemplate ? DEFAULT_SUMMARY_INSTRUCTION : DEFAULT_PLAIN_SUMMARY_TEMPLATE);
  return buildPrompt(generator, text, { ...style, template, useChatTemplate });
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

/** Writes a summary of `text` with a generative summarizer (the model's own prefix and length settings unless `options` say otherwise). */
export async function summarizeGeneratively(
  summarizer: GenerativeSummarizer,
  text: string,
  options: GenerativeSummaryOptions = {},
): Promise<GenerationResult> {
  const { template, useChatTemplate, systemPrompt, ...generation } = options;
  const prompt = buildSummaryPrompt(summarizer, text, { template, useChatTemplate, systemPrompt });
  const result = await generateText(summarizer.generator, prompt, {
    ...readSummaryLengths(summarizer),
    ...withoutUndefined(generation),
    returnFullText: false,
  });
  return { ...result, generatedText: result.generatedText.trim() };
}
