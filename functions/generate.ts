import { defineFunction, generateEndpoint } from '../src/index.ts';

/** Short children's stories from a 260K-parameter Llama trained on TinyStories. */
export default defineFunction({
  task: generateEndpoint,
  model: 'tinystories-260k',
  parameters: { max_new_tokens: 64 },
  limits: { maxNewTokens: 256 },
  description: 'Continues a short story (TinyStories, 260K parameters).',
});
