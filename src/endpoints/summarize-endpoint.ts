import * as z from 'zod/mini';
import { createSummarizer, type Summarizer } from '../tasks/summarize/create-summarizer.ts';
import { summarizeExtractively, type ExtractiveSummarizer } from '../tasks/summarize/extractive.ts';
import { prepareSummary, readSummaryLengths, summarizeGeneratively, type GenerativeSummarizer, type GenerativeSummaryOptions } from '../tasks/summarize/generative.ts';
import { observeGeneration } from '../tasks/generate/generation-observer.ts';
import { InputError } from '../tasks/input-error.ts';
import { samplingShape, separateStreamEventConfidence, toGenerationOptions, toStreamEvents, type GenerateStreamEvent } from './generate-endpoint.ts';
import { textOrTextsSchema, toTextList } from './schemas.ts';
import { addConfidence, confidenceShape, separateConfidence, withoutConfidence, type ConfidenceFields } from './answer-confidence.ts';
import type { FunctionLimits } from '../spec/function-limits.ts';
import type { EndpointContext, TaskEndpoint } from '../spec/task-endpoint.ts';

const lengthShape = {
  /** Sentences to keep (extractive), or to ask a chat model for (generative: a soft target within max_new_tokens). */
  sentences: z.optional(z.int().check(z.minimum(1))),
};

const extractiveShape = {
  /** Or the share of the document's sentences to keep, in (0, 1]. */
  ratio: z.optional(z.number().check(z.gt(0), z.lte(1))),
  /** Also return each sentence's score and which were kept. */
  return_scores: z.optional(z.boolean()),
};

const generativeShape = {
  ...samplingShape,
  min_new_tokens: z.optional(z.int().check(z.minimum(0))),
  ...confidenceShape,
};

const summarizeParametersSchema = z.strictObject({ ...lengthShape, ...extractiveShape, ...generativeShape });

/** The `parameters` a summarize request may send: sentences to keep (extractive) or generation settings (generative). */
export type SummarizeParameters = z.infer<typeof summarizeParametersSchema>;

/** One summary as a summarize request is answered: its text, and for an extractive summarizer the kept sentences. */
export interface SummaryAnswer extends Partial<ConfidenceFields> {
  summary_text: string;
  selected?: number[];
  sentences?: { text: string; score: number }[];
}

/** A parameter of the other kind of summarizer is refused rather than silently ignored. */
function refuseParametersOfOtherKind(summarizer: Summarizer, parameters: SummarizeParameters): void {
  const otherShape = summarizer.kind === 'extractive' ? generativeShape : extractiveShape;
  const misplaced = Object.keys(otherShape).filter((key) => parameters[key as keyof SummarizeParameters] !== undefined);
  if (misplaced.length > 0) {
    throw new InputError('invalid', `parameter ${misplaced.join(', ')} does not apply to this ${summarizer.kind} summarizer`);
  }
}

/**
 * Prompt parameters a generative summarizer would not read are refused too: an encoder-decoder reads the text
 * behind its config's prefix (no chat template, no system prompt, no sentence count to ask for), and `sentences` is
 * asked of a chat model only through the default instruction in its chat template.
 */
function refuseUnreadPromptParameters(summarizer: GenerativeSummarizer, parameters: SummarizeParameters): void {
  if (summarizer.generator.model.kind === 'encoder-decoder') {
    const unread = (['sentences', 'use_chat_template', 'system_prompt'] as const).filter((key) => parameters[key] !== undefined);
    if (unread.length > 0) {
      throw new InputError(
        'invalid',
        `parameter ${unread.join(', ')} does not apply to this encoder-decoder summarizer, which reads the text behind its config's prefix: bound the length with max_new_tokens`,
      );
    }
    return;
  }
  const usesChatTemplate = (parameters.use_chat_template ?? summarizer.generator.chatTemplate !== undefined) && summarizer.generator.chatTemplate !== undefined;
  if (parameters.sentences !== undefined && (!usesChatTemplate || parameters.prompt_template !== undefined)) {
    const reason = parameters.prompt_template !== undefined ? 'prompt_template replaces the instruction that asks for them' : 'this prompt does not go through a chat template';
    throw new InputError('invalid', `parameter sentences is asked of a chat model in its default instruction, and ${reason}: say the length in prompt_template, or bound it with max_new_tokens`);
  }
  if (parameters.system_prompt !== undefined && !usesChatTemplate) {
    throw new InputError('invalid', 'parameter system_prompt needs a chat template, and this prompt does not go through one');
  }
}

async function summarizeWithSentenceScores(summarizer: ExtractiveSummarizer, texts: string[], parameters: SummarizeParameters, limits: Required<FunctionLimits>) {
  const answers: SummaryAnswer[] = [];
  // One document per run: the model's contract forbids batching documents together.
  for (const text of texts) {
    const result = await summarizeExtractively(summarizer, text, { sentences: parameters.sentences, ratio: parameters.ratio, maxSentences: limits.maxSentences });
    answers.push(
      parameters.return_scores
        ? {
            summary_text: result.summary,
            selected: result.selected,
            sentences: result.sentences.map((sentence, index) => ({ text: sentence, score: result.scores[index] })),
          }
        : { summary_text: result.summary },
    );
  }
  return answers;
}

/** A generative summary's settings from the request: the length budget within the function's limits, the prompt's style. */
function toSummaryOptions(summarizer: GenerativeSummarizer, context: EndpointContext<SummarizeParameters>): GenerativeSummaryOptions {
  const { parameters, limits, signal, batching } = context;
  return {
    ...toGenerationOptions(parameters, readSummaryLengths(summarizer).maxNewTokens, limits),
    minNewTokens: parameters.min_new_tokens,
    template: parameters.prompt_template,
    useChatTemplate: parameters.use_chat_template,
    systemPrompt: parameters.system_prompt,
    sentences: parameters.sentences,
    maxPromptTokens: limits.maxInputTokens,
    signal,
    // With the function's batching off, a summary decodes alone rather than in the model's shared step loop.
    shareRuns: batching ?? true,
  };
}

async function summarizeByGeneration(summarizer: GenerativeSummarizer, texts: string[], context: EndpointContext<SummarizeParameters>) {
  const { parameters } = context;
  const options = toSummaryOptions(summarizer, context);
  const answers: SummaryAnswer[] = [];
  for (const text of texts) {
    const summary = await summarizeGeneratively(summarizer, text, options);
    answers.push(addConfidence({ summary_text: summary.generatedText }, summary.confidence, parameters.min_confidence));
  }
  return answers;
}

/**
 * A streamed summary, in generate's stream shape (text-generation-inference events, one per token): the last event
 * carries the summary as `generated_text`, and its confidence (shown with `return_confidence`). One text only, on a
 * generative summarizer; its prompt is checked against the limits before the stream starts.
 */
function streamGeneratedSummary(summarizer: Summarizer, inputs: string | string[], context: EndpointContext<SummarizeParameters>): AsyncIterable<GenerateStreamEvent> {
  if (summarizer.kind === 'extractive') {
    throw new InputError('invalid', 'stream: true needs a generative summarizer, and this function summarizes extractively (it answers JSON only): leave stream out');
  }
  if (Array.isArray(inputs)) {
    throw new InputError('invalid', `stream: true takes one text in inputs, and this request has a list of ${inputs.length}: send one request per text, or leave stream out`);
  }
  const prepared = prepareSummary(summarizer, inputs, { ...toSummaryOptions(summarizer, context), withTokenTexts: true });
  return toStreamEvents(prepared.start(), false, undefined, { constrained: false, minConfidence: context.parameters.min_confidence });
}

/**
 * Summarization, answered in the Hugging Face shape `[{summary_text}]` per input. The model decides the
 * runner: extractive sentence scoring (one run per document), an encoder-decoder, or a prompted causal LM.
 */
export const summarizeEndpoint: TaskEndpoint<Summarizer, string | string[], SummarizeParameters, SummaryAnswer[]> = {
  task: 'summarize',
  inputsSchema: textOrTextsSchema,
  parametersSchema: summarizeParametersSchema,
  defaultLimits: { maxBodyBytes: 1 << 20, maxInputs: 8, maxInputTokens: 2048, maxNewTokens: 256, maxSentences: 512 },
  prepare: createSummarizer,
  async warmUp(summarizer) {
    const text = 'A first sentence. A second one.';
    if (summarizer.kind === 'extractive') await summarizeExtractively(summarizer, text);
    else await summarizeGeneratively(summarizer, text, { maxNewTokens: 2 });
  },
  // An extractive summary cuts each sentence to the model's length; its document is bounded by limits.maxSentences.
  refusesLongInputs: (_parameters, description) => description.kind !== 'extractive',
  describe(summarizer) {
    if (summarizer.kind === 'extractive') {
      return {
        kind: summarizer.kind,
        default_sentences: summarizer.contract.default_k ?? 3,
        summary_ratio: summarizer.contract.summary_ratio,
        // Whether `"stream": true` is answered (server-sent events): generative summarizers only.
        streaming: false,
        execution_provider: summarizer.session.executionProvider,
      };
    }
    const { model, chatTemplate } = summarizer.generator;
    return {
      kind: summarizer.kind,
      model_kind: model.kind,
      kv_cache: model.hasCache,
      prefix: summarizer.taskParams.prefix ?? null,
      chat_template: chatTemplate !== undefined,
      streaming: true,
      execution_provider: model.executionProvider,
    };
  },
  async answer(summarizer, inputs, context) {
    refuseParametersOfOtherKind(summarizer, context.parameters);
    if (summarizer.kind === 'generative') refuseUnreadPromptParameters(summarizer, context.parameters);
    if (context.stream) return streamGeneratedSummary(summarizer, inputs, context);
    const texts = toTextList(inputs);
    return summarizer.kind === 'extractive'
      ? summarizeWithSentenceScores(summarizer, texts, context.parameters, context.limits)
      : summarizeByGeneration(summarizer, texts, context);
  },
  // Extractive summaries have no confidence: only generative ones are read, and shown with return_confidence.
  separateConfidence(answers, parameters) {
    const generative = answers.filter((answer) => answer.confidence !== undefined) as (SummaryAnswer & ConfidenceFields)[];
    if (generative.length === 0) return { answer: answers, confidence: { confidences: [], lowConfidence: false } };
    return separateConfidence(generative, parameters, withoutConfidence);
  },
  separateEventConfidence: (event, parameters) => separateStreamEventConfidence(event as GenerateStreamEvent, parameters),
  // The extractive model's contract forbids batching documents together, so every request gets runs of its own.
  defaultServing: { batching: false, timeoutMilliseconds: 60_000 },
  observe(summarizer, observer) {
    if (summarizer.kind === 'generative') observeGeneration(summarizer.generator.model, observer);
  },
};
