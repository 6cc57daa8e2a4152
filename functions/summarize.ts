import { defineFunction, summarizeEndpoint } from '../src/index.ts';

/** Extractive summary of a news-style article: its most salient sentences, verbatim, in order. */
export default defineFunction({
  task: summarizeEndpoint,
  model: 'summarize-bbc-extractive',
  parameters: { sentences: 3 },
  limits: { maxBodyBytes: 256 * 1024 },
  description: 'Extractive summary of a news article: its 3 most salient sentences.',
});
