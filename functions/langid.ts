import { classifyEndpoint, defineFunction } from '../src/index.ts';

/** Which of 176 languages a text is in, from fastText's lid.176 model. */
export default defineFunction({
  task: classifyEndpoint,
  model: 'langid-fasttext-lid176',
  parameters: { top_k: 3 },
  limits: { maxInputTokens: 20000 },
  description: 'Language of a text (176 languages, Wikipedia codes), top 3.',
});
