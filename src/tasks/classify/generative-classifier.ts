import { encodePrompt } from '../generate/generate-text.ts';
import { buildPrompt, fillPromptTemplate } from '../generate/prompt.ts';
import type { TextGenerator } from '../generate/text-generator.ts';
import { InputError } from '../input-error.ts';
import { softmax } from '../scores.ts';
import type { LabelScore } from './classify.ts';

/** Asked of a chat model: `{{labels}}` becomes the labels, comma-separated, and `{{input}}` the request's text. */
export const DEFAULT_CLASSIFY_INSTRUCTION = 'Classify the text into exactly one of these labels: {{labels}}. Answer with the label only.\n\nText: {{input}}';
/** For a model without a chat template: the label is scored as what follows "Label:". */
export const DEFAULT_PLAIN_CLASSIFY_TEMPLATE = 'Text: {{input}}\nLabels: {{labels}}\nLabel:';

const LABELS_SLOT = /\{\{\s*labels\s*\}\}/g;

/** How a generative classifier asks: its label set, and the instruction and system prompt around the text. */
export interface GenerativeClassifierSettings {
  labels: readonly string[];
  /** The prompt's text, with `{{input}}` (the request's text) and optionally `{{labels}}`. */
  instruction?: string;
  systemPrompt?: string;
}

/** A label set ready to score on one model: each label's answer tokens, end of sequence included. */
export interface GenerativeClassifier {
  readonly generator: TextGenerator;
  readonly settings: GenerativeClassifierSettings;
  readonly chat: boolean;
  readonly labelTokens: readonly (readonly number[])[];
}

/** One ranked classification, with each label's sequence log-probability as the model gave it. */
export interface GenerativeClassification {
  /** Every label, best first; scores are the softmax over the sequence log-probabilities (they sum to 1). */
  scores: LabelScore[];
  /** Per label, in the order of the label set: log P(label tokens, end of sequence | prompt). */
  sequenceLogprobs: number[];
}

/** Refuses a label set that cannot be ranked: none, an empty label, the same label twice. */
export function checkLabelSet(labels: readonly string[]): void {
  if (labels.length < 2) throw new Error('a generative classifier needs at least two labels');
  const seen = new Set<string>();
  for (const label of labels) {
    if (label.trim().length === 0) throw new Error('a label must not be empty');
    if (seen.has(label)) throw new Error(`label ${JSON.stringify(label)} is given twice`);
    seen.add(label);
  }
}

/**
 * Encodes each label as the model would write it as its whole answer: after the chat template's assistant turn,
 * the label's tokens then the end-of-sequence token (so that a label which starts another, "Positive" and
 * "Positive feedback", is not favoured for being shorter); after a plain prompt's "Label:", a space first.
 */
export function createGenerativeClassifier(generator: TextGenerator, settings: GenerativeClassifierSettings): GenerativeClassifier {
  checkLabelSet(settings.labels);
  const chat = generator.chatTemplate !== undefined;
  const end = generator.defaults.eosTokenIds[0];
  const labelTokens = settings.labels.map((label) => {
    const ids = generator.tokenizer.encode(chat ? label : ` ${label}`, { addSpecialTokens: false }).ids;
    return end === undefined ? ids : [...ids, end];
  });
  return { generator, settings, chat, labelTokens };
}

/** The prompt a text is classified with: the instruction in the model's chat template, or the plain template. */
export function buildClassifyPrompt(classifier: GenerativeClassifier, text: string) {
  const { settings, chat, generator } = classifier;
  const template = (settings.instruction ?? (chat ? DEFAULT_CLASSIFY_INSTRUCTION : DEFAULT_PLAIN_CLASSIFY_TEMPLATE)).replace(LABELS_SLOT, () => settings.labels.join(', '));
  return buildPrompt(generator, fillPromptTemplate(template, text), { useChatTemplate: chat, systemPrompt: settings.systemPrompt });
}

/**
 * Ranks the labels for one text by the model's probability of writing each as its answer: the sum of its tokens'
 * log-probabilities, all labels scored in one batched run after one run of the prompt, never sampled.
 */
export async function classifyGeneratively(classifier: GenerativeClassifier, text: string, options: { maxPromptTokens?: number } = {}): Promise<GenerativeClassification> {
  const { generator, labelTokens, settings } = classifier;
  const score = generator.model.scoreContinuations;
  if (!score) throw new InputError('invalid', `model ${generator.name} cannot score label sequences (an encoder-decoder model)`);
  const promptIds = encodePrompt(generator, buildClassifyPrompt(classifier, text), options.maxPromptTokens);
  const longest = Math.max(...labelTokens.map((tokens) => tokens.length));
  if (promptIds.length + longest > generator.model.maxSequenceLength) {
    throw new InputError('too_large', `the prompt is ${promptIds.length} tokens; with the longest label it passes this model's length of ${generator.model.maxSequenceLength}`);
  }
  const tokenLogprobs = await score.call(generator.model, promptIds, labelTokens);
  const sequenceLogprobs = tokenLogprobs.map((logprobs) => logprobs.reduce((sum, logprob) => sum + logprob, 0));
  const probabilities = softmax(sequenceLogprobs);
  const scores = settings.labels.map((label, index) => ({ label, score: probabilities[index] })).sort((a, b) => b.score - a.score);
  return { scores, sequenceLogprobs };
}
