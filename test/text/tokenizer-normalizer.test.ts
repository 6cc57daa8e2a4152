import { Tokenizer } from '@huggingface/tokenizers';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/text/tokenizer.ts';
import { datasetPath, mirrorFolder } from '../support/shared-models.ts';

const readJson = (model: string, file: string) => JSON.parse(readFileSync(join(mirrorFolder, model, file), 'utf8')) as Record<string, unknown>;

const sst2Sentences = readFileSync(datasetPath('sst2', 'test.tsv'), 'utf8')
  .split('\n')
  .slice(1, 401)
  .map((line) => line.split('\t')[0])
  .filter(Boolean);

// Texts the printable-ASCII shortcut must leave to the library, and ASCII ones at its edges.
const EDGE_TEXTS = [
  'Plain ASCII, UPPER and lower; punctuation: (a) [b] {c} ~!@#$%^&*_+=|\\<>?/"\'`',
  'tabs\tand\nnew lines\r\nin ASCII',
  'Café crème, naïve résumé, Zürich, ŁÓDŹ',
  '北京 and 東京 mixed with English',
  'emoji 🐱 and a zero-width\u200bjoiner, a soft\u00adhyphen, control\u0007 bell',
  ' leading and trailing spaces ',
  '',
];

describe.each(['sentiment-sst2-mini', 'ner-conll03-mini-cased'])('BERT normalizing of %s', (model) => {
  it('gives the ids of the unmodified library on SST-2 sentences and on texts with accents, CJK and control characters', () => {
    const json = readJson(model, 'tokenizer.json');
    const config = readJson(model, 'tokenizer_config.json');
    const reference = new Tokenizer(json, config);
    const tokenizer = createTokenizer(json, config, readJson(model, 'config.json'));
    for (const text of [...sst2Sentences, ...EDGE_TEXTS]) {
      expect(tokenizer.encode(text).ids, text).toEqual(reference.encode(text).ids);
    }
  });
});
