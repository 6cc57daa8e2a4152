import { defineFunction, extractEndpoint } from '../src/index.ts';

/** Named entities (PER, ORG, LOC, MISC) with character offsets, from a small cased BERT trained on CoNLL-2003. */
export default defineFunction({
  task: extractEndpoint,
  model: 'ner-conll03-mini-cased',
  // The model was trained and scored on each word's first sub-token.
  parameters: { aggregation_strategy: 'first' },
  description: 'Named entities (PER, ORG, LOC, MISC) with character offsets.',
});
