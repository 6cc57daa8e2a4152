import type { ModelBundle } from '../../models/model-bundle.ts';
import { createExtractiveSummarizer, readSentenceScoringContract, type ExtractiveSummarizer } from './extractive.ts';
import { createGenerativeSummarizer, type GenerativeSummarizer } from './generative.ts';

/** A summarization model ready to run, of either kind (extractive or generative). */
export type Summarizer = ExtractiveSummarizer | GenerativeSummarizer;

/**
 * Picks the runner a summarization model needs: a sentence scorer when its config.json declares a
 * `sentence_scoring` contract, otherwise generation (an encoder-decoder such as T5 or BART, or a causal LM).
 */
export async function createSummarizer(model: ModelBundle): Promise<Summarizer> {
  return readSentenceScoringContract(model) ? createExtractiveSummarizer(model) : createGenerativeSummarizer(model);
}
