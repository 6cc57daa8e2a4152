import { Tokenizer } from '@huggingface/tokenizers';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPrintableAsciiWordPiece } from '../../src/text/printable-ascii-wordpiece.ts';
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

const conllSentences = readFileSync(datasetPath('conll2003', 'test.txt'), 'utf8')
  .split(/\n\s*\n/)
  .map((block) => block.split('\n').filter(Boolean).map((line) => line.split(' ')[0]))
  .filter((words) => words.length > 0 && words[0] !== '-DOCSTART-')
  .slice(0, 400)
  .map((words) => words.join(' '));

/** Seeded printable-ASCII texts: words, digits, every punctuation character, runs of spaces, over-long words. */
function randomAsciiTexts(count: number): string[] {
  let state = 12345;
  const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pieces = ['the', 'The', 'PARIS', 'unbelievably', "don't", 'U.S.', '3.5%', '$12,000', 'e-mail', 'x', ' ', '  ', '!!', '#tag', '@user', 'a'.repeat(120), 'naïve'.slice(0, 2)];
  for (let code = 0x21; code <= 0x7e; code++) pieces.push(String.fromCharCode(code));
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(random() * 20) }, () => pieces[Math.floor(random() * pieces.length)]).join(random() < 0.6 ? ' ' : ''));
}

const SPECIAL_TEXTS = ['a [SEP] b', '[CLS]', 'mask [MASK] here', '[unk] lower', '[PAD][PAD]', '   ', 'x'];

describe.each(['sentiment-sst2-mini', 'ner-conll03-mini-cased', 'summarize-bbc-extractive'])('the printable-ASCII WordPiece shortcut of %s', (model) => {
  it('gives the tokens and ids of the unmodified library, with and without special tokens', () => {
    const json = readJson(model, 'tokenizer.json');
    const config = readJson(model, 'tokenizer_config.json');
    const reference = new Tokenizer(json, config);
    const tokenizer = createTokenizer(json, config, readJson(model, 'config.json'));
    for (const text of [...sst2Sentences, ...conllSentences, ...randomAsciiTexts(400), ...SPECIAL_TEXTS, ...EDGE_TEXTS]) {
      for (const addSpecialTokens of [true, false]) {
        const expected = reference.encode(text, { add_special_tokens: addSpecialTokens });
        expect(tokenizer.encode(text, { addSpecialTokens }), JSON.stringify(text)).toEqual({ ids: expected.ids, tokens: expected.tokens });
      }
    }
  });

  it('takes plain ASCII texts and leaves the rest to the library', () => {
    const json = readJson(model, 'tokenizer.json');
    const shortcut = createPrintableAsciiWordPiece(new Tokenizer(json, readJson(model, 'tokenizer_config.json')), json);
    expect(shortcut).toBeDefined();
    expect(shortcut!('EU rejects German call to boycott British lamb .', true)?.tokens.length).toBeGreaterThan(8);
    for (const text of ['a [SEP] b', 'Café', 'tab\there']) expect(shortcut!(text, true), text).toBeUndefined();
  });
});
