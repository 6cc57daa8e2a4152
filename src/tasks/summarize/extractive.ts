import type { EngineSession } from '../../engine/engine.ts';
import { readFloat32 } from '../../engine/tensor.ts';
import { requireTokenizer, type ModelBundle } from '../../models/model-bundle.ts';
import type { TextTokenizer } from '../../text/tokenizer.ts';
import { splitSentences } from '../../text/sentence-splitter.ts';
import { createEncoderFeeds } from '../batch-feeds.ts';
import { InputError } from '../input-error.ts';
import { sigmoid } from '../scores.ts';

/** The calling contract an extractive model declares in config.json `sentence_scoring`. */
export interface SentenceScoringContract {
  default_k?: number;
  summary_ratio?: number;
  max_sentence_tokens?: number;
}

/** A sentence-scoring model ready to pick a document's sentences. */
export interface ExtractiveSummarizer {
  readonly kind: 'extractive';
  readonly session: EngineSession;
  readonly tokenizer: TextTokenizer;
  readonly contract: SentenceScoringContract;
}

/** How many sentences an extractive summary keeps, as a count or a share of the document. */
export interface ExtractiveSummaryOptions {
  /** How many sentences to keep; defaults to the contract's `default_k`. */
  sentences?: number;
  /** Keep this share of the document's sentences instead (k = max(1, round(ratio · N))). */
  ratio?: number;
  /**
   * Refuse documents with more sentences than this, before any is tokenized: the model attends across all of a
   * document's sentences in one run, so its memory grows with their count squared (8,000 one-word sentences took
   * 2.7 GB).
   */
  maxSentences?: number;
}

/** An extractive summary: the kept sentences joined, which ones they are, and every sentence's score. */
export interface ExtractiveSummary {
  summary: string;
  /** Indices of the kept sentences, in document order. */
  selected: number[];
  sentences: string[];
  /** Per sentence, the estimated probability that it belongs in the summary. */
  scores: number[];
}

export function readSentenceScoringContract(model: ModelBundle): SentenceScoringContract | undefined {
  const contract = model.config.sentence_scoring;
  return contract && typeof contract === 'object' ? (contract as SentenceScoringContract) : undefined;
}

/** Opens an extractive summarizer (a sentence-scoring model) and reads its contract, for `summarizeExtractively`. */
export async function createExtractiveSummarizer(model: ModelBundle): Promise<ExtractiveSummarizer> {
  const contract = readSentenceScoringContract(model);
  if (!contract) throw new Error(`model ${model.name} declares no sentence_scoring contract in config.json`);
  return { kind: 'extractive', session: await model.openSession(), tokenizer: requireTokenizer(model), contract };
}

/** Each sentence encoded alone, cut to the model's length with its closing [SEP] kept. */
function encodeSentence(tokenizer: TextTokenizer, sentence: string, maxTokens: number): number[] {
  const { ids } = tokenizer.encode(sentence);
  return ids.length <= maxTokens ? ids : [...ids.slice(0, maxTokens - 1), ids[ids.length - 1]];
}

/** Indices of the k highest scores (ties go to the earlier sentence), in document order. */
export function selectTopSentences(scores: readonly number[], k: number): number[] {
  return scores
    .map((score, index) => ({ score, index }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, Math.min(k, scores.length))
    .map(({ index }) => index)
    .sort((a, b) => a - b);
}

/**
 * Scores every sentence of ONE document in ONE run and keeps the best. The model looks across rows
 * (term frequencies over the document, sentence position), so documents are never batched or split.
 */
export async function summarizeExtractively(
  summarizer: ExtractiveSummarizer,
  text: string,
  options: ExtractiveSummaryOptions = {},
): Promise<ExtractiveSummary> {
  const sentences = splitSentences(text);
  if (sentences.length === 0) throw new InputError('empty', 'the document has no sentences');
  if (options.maxSentences !== undefined && sentences.length > options.maxSentences) {
    throw new InputError('too_large', `the document has ${sentences.length} sentences, over this function's limit of ${options.maxSentences} sentences (limits.maxSentences)`);
  }
  const maxTokens = summarizer.contract.max_sentence_tokens ?? summarizer.tokenizer.modelMaxLength;
  const rows = sentences.map((sentence) => encodeSentence(summarizer.tokenizer, sentence, maxTokens));
  const outputs = await summarizer.session.run(createEncoderFeeds(summarizer.session, rows, summarizer.tokenizer.specialIds.pad ?? 0));
  const logits = readFloat32(outputs.logits);
  // logits are [0, z] per sentence; z is the salience logit.
  const salience = sentences.map((_, row) => logits[row * 2 + 1] - logits[row * 2]);
  const k =
    options.ratio !== undefined
      ? Math.max(1, Math.round(options.ratio * sentences.length))
      : (options.sentences ?? summarizer.contract.default_k ?? 3);
  const selected = selectTopSentences(salience, k);
  return {
    summary: selected.map((index) => sentences[index]).join(' '),
    selected,
    sentences,
    scores: salience.map(sigmoid),
  };
}
