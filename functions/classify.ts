import { classifyEndpoint, defineFunction } from '../src/index.ts';

/** Sentiment of English text (NEGATIVE / POSITIVE), from a small BERT trained on SST-2. */
export default defineFunction({
  task: classifyEndpoint,
  model: 'sentiment-sst2-mini',
  parameters: { top_k: null },
  description: 'Sentiment of English text: NEGATIVE or POSITIVE.',
});
