import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { PRINTABLE_ASCII } from '../../src/text/printable-ascii-offsets.ts';
import { createTokenAligner } from '../../src/text/token-offsets.ts';
import { createTokenizer, type Offset } from '../../src/text/tokenizer.ts';
import { datasetPath, hasMirror, mirrorFolder } from '../support/shared-models.ts';
import { createByteLevelTokenizerJson } from './byte-level-tokenizer.ts';

/**
 * Property checks of the character offsets: for many texts and every kind of tokenizer honnx meets, each token's
 * span must hold exactly the text the token stands for, in order, covering every character the tokenizer kept.
 * The expected surface of a token is worked out here from the token string and the tokenizer.json alone.
 */

type TokenizerJson = Record<string, unknown> & { model: Record<string, unknown>; decoder?: { type?: string; decoders?: { type?: string }[] } | null };

interface TokenizerUnderTest {
  name: string;
  json: TokenizerJson;
  config: Record<string, unknown>;
}

const FIXED_TEXTS = [
  'My name is Sarah and I live in London',
  'Café crème, naïve façade; Ångström and Øresund.',
  'CAFÉ déjà vu: ÉLAN',
  'Caf\u0065\u0301 with a combining accent, and e\u0301e\u0301 twice',
  'Emoji 😀 between words, 👨‍👩‍👧 a family, 🇫🇷 a flag, ❤️ a heart',
  '😀😀😀',
  '东京 and 北京 are 中国的 cities; 한국어 and ひらがな too',
  'Tabs\tand\nnewlines\r\nand   repeated    spaces',
  '   leading and trailing spaces   ',
  'U.S.-based A.B.C. Inc. (NYSE: ABC) rose 3.5% to $12.75!!!',
  "Don't won't shouldn't it's O'Neill's",
  'Zero\u200bwidth and soft\u00adhyphen and bell\u0007char',
  'A very long word: pneumonoultramicroscopicsilicovolcanoconiosisxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'Ωmega Σίσυφος ΟΔΟΣ',
  'Special tokens typed in: [CLS] [SEP] [UNK] <s> </s> <unk>',
  'x',
  ' ',
];

const PIECES = [
  'the', 'World', 'Paris', 'London', 'Angela', 'Merkel', 'café', 'naïve', 'Ωmega', 'e\u0301', '😀', '👍🏽', '中国', '東京',
  'U.S.', 'Inc.', '3.5%', "it's", '--', '...', '(', ')', '"', '\u00a0', '\t', '\n', '  ', ' ', ' ', ' ', ' ', 'x', 'ß', 'İstanbul',
];

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTexts(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const length = 1 + Math.floor(random() * 24);
    return Array.from({ length }, () => PIECES[Math.floor(random() * PIECES.length)]).join(random() < 0.7 ? ' ' : '');
  });
}

function conllSentences(count: number): string[] {
  const path = datasetPath('conll2003', 'test.txt');
  if (!existsSync(path)) return [];
  const sentences = readFileSync(path, 'utf8').split(/\n\s*\n/).map((block) => block.split('\n').filter(Boolean).map((line) => line.split(' ')[0]));
  return sentences.filter((words) => words.length > 0 && words[0] !== '-DOCSTART-').slice(0, count).map((words) => words.join(' '));
}

const TEXTS = [...FIXED_TEXTS, ...randomTexts(300, 7), ...conllSentences(300)];

function readFolder(folder: string, name: string): TokenizerUnderTest {
  const read = (file: string) => JSON.parse(readFileSync(join(folder, file), 'utf8'));
  return { name, json: read('tokenizer.json'), config: existsSync(join(folder, 'tokenizer_config.json')) ? read('tokenizer_config.json') : {} };
}

const tokenizersUnderTest: TokenizerUnderTest[] = [
  { name: 'inline byte-level BPE (RoBERTa style)', json: createByteLevelTokenizerJson() as TokenizerJson, config: {} },
  { name: 'inline byte-level BPE, add_prefix_space', json: createByteLevelTokenizerJson({ addPrefixSpace: true }) as TokenizerJson, config: {} },
];
if (hasMirror) {
  for (const name of ['ner-conll03-mini-cased', 'sentiment-sst2-mini', 'summarize-bbc-extractive', 'tinystories-260k']) {
    tokenizersUnderTest.push(readFolder(join(mirrorFolder, name), name));
  }
}
const generatedModels = join(import.meta.dirname, '../../.cache/tiny-models');
for (const name of ['tiny-bert-token-classification', 'tiny-roberta-token-classification']) {
  if (existsSync(join(generatedModels, name, 'tokenizer.json'))) tokenizersUnderTest.push(readFolder(join(generatedModels, name), name));
}

const BYTE_TO_UNICODE_INVERSE = (() => {
  const printable: number[] = [];
  for (let byte = 0x21; byte <= 0x7e; byte++) printable.push(byte);
  for (let byte = 0xa1; byte <= 0xac; byte++) printable.push(byte);
  for (let byte = 0xae; byte <= 0xff; byte++) printable.push(byte);
  const inverse = new Map<string, number>();
  for (const byte of printable) inverse.set(String.fromCharCode(byte), byte);
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) if (!printable.includes(byte)) inverse.set(String.fromCharCode(256 + shifted++), byte);
  return inverse;
})();

/** What a token stands for, as bytes: "##" dropped, byte-level symbols and <0xNN> pieces turned back into bytes, "▁" into a space. */
function expectedBytes(token: string, json: TokenizerJson): Uint8Array {
  const model = json.model;
  const decoders = [json.decoder, ...(json.decoder?.decoders ?? [])].map((decoder) => decoder?.type);
  if (model.type === 'WordPiece') return new TextEncoder().encode(token.startsWith('##') ? token.slice(2) : token);
  const fallback = /^<0x([0-9A-F]{2})>$/i.exec(token);
  if (model.byte_fallback && fallback) return Uint8Array.of(parseInt(fallback[1], 16));
  if (decoders.includes('ByteLevel')) return Uint8Array.from([...token].map((symbol) => BYTE_TO_UNICODE_INVERSE.get(symbol)!));
  return new TextEncoder().encode(token.replaceAll('\u2581', ' '));
}

function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let start = 0; start + needle.length <= haystack.length; start++) {
    for (let k = 0; k < needle.length; k++) if (haystack[start + k] !== needle[k]) continue outer;
    return true;
  }
  return false;
}

const isLowSurrogate = (text: string, index: number) => index > 0 && index < text.length && /[\uDC00-\uDFFF]/.test(text[index]);
const PUNCTUATION = /[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u005E\u0060\u007B-\u007E]/u;

function checkOffsets(subject: TokenizerUnderTest, libraryTokenizer: Tokenizer, text: string, tokens: string[], special: boolean[], offsets: Offset[]): void {
  const unk = subject.json.model.unk_token as string | undefined;
  const normalize = (value: string) => (libraryTokenizer.normalizer ? libraryTokenizer.normalizer.normalize(value) : value);
  const wordPiece = subject.json.model.type === 'WordPiece';
  const context = (index: number) => `${subject.name}: token ${index} ${JSON.stringify(tokens[index])} at [${offsets[index]}] of ${JSON.stringify(text)}`;
  expect(offsets).toHaveLength(tokens.length);
  const covered = new Uint8Array(text.length);
  let previous: Offset | undefined;
  tokens.forEach((token, index) => {
    const [start, end] = offsets[index];
    if (special[index] && token !== unk) {
      expect(offsets[index], context(index)).toEqual([0, 0]);
      return;
    }
    expect(0 <= start && start <= end && end <= text.length, context(index)).toBe(true);
    expect(isLowSurrogate(text, start) || isLowSurrogate(text, end), `${context(index)} cuts a surrogate pair`).toBe(false);
    if (previous) {
      expect(start, `${context(index)} goes backwards`).toBeGreaterThanOrEqual(previous[0]);
      // Tokens may share the one character they each hold a byte of, never more.
      if (start < previous[1]) expect([...text.slice(start, previous[1])].length, `${context(index)} overlaps`).toBeLessThanOrEqual(1);
    }
    previous = offsets[index];
    covered.fill(1, start, end);
    const slice = text.slice(start, end);
    if (token === unk) {
      expect(slice.length, context(index)).toBeGreaterThan(0);
      expect(/\s/u.test(slice), context(index)).toBe(false);
      if (wordPiece) {
        // A whole word: nothing of the same word on either side.
        const before = text.slice(0, start).at(-1);
        const after = text[end];
        // The normalizer puts spaces around CJK characters, which makes each of them a word.
        const boundary = (char: string | undefined, side: 'before' | 'after') => {
          if (char === undefined || PUNCTUATION.test(char)) return true;
          const normalized = normalize(char);
          return normalized.trim() === '' || /\s/u.test(side === 'before' ? normalized.at(-1)! : normalized[0]);
        };
        const own = normalize(slice);
        expect(boundary(before, 'before') || /^\s/u.test(own) || PUNCTUATION.test(slice), context(index)).toBe(true);
        expect(boundary(after, 'after') || /\s$/u.test(own) || PUNCTUATION.test(slice), context(index)).toBe(true);
      }
      return;
    }
    const bytes = expectedBytes(token, subject.json);
    if (wordPiece) {
      expect(normalize(slice).trim(), context(index)).toBe(new TextDecoder().decode(bytes));
      return;
    }
    let decoded: string | undefined;
    try {
      decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      decoded = undefined;
    }
    if (decoded === undefined) {
      // Part of a character: the span is the character(s) holding these bytes (less a leading space marker).
      const content = bytes[0] === 0x20 ? bytes.subarray(1) : bytes;
      expect(containsBytes(new TextEncoder().encode(slice), content), context(index)).toBe(true);
    } else if (decoded.trim() === '') {
      expect(slice.trim(), context(index)).toBe('');
    } else {
      expect(slice, context(index)).toBe(decoded.trim());
    }
  });
  // Every character the normalizer keeps, other than whitespace and special tokens typed in, belongs to some token.
  for (const { content, special: isSpecial } of subject.json.added_tokens as { content: string; special: boolean }[]) {
    if (!isSpecial || content === unk) continue;
    for (let at = text.indexOf(content); at >= 0; at = text.indexOf(content, at + 1)) covered.fill(1, at, at + content.length);
  }
  for (let index = 0; index < text.length; index++) {
    const codePoint = text.codePointAt(index)!;
    const char = String.fromCodePoint(codePoint);
    if (/[\uDC00-\uDFFF]/.test(text[index])) continue;
    const kept = normalize(char).trim() !== '' && !/\s/u.test(char);
    if (kept) expect(covered[index], `${subject.name}: ${JSON.stringify(char)} at ${index} of ${JSON.stringify(text)} is in no token`).toBe(1);
  }
}

describe('computeTokenOffsets', () => {
  for (const subject of tokenizersUnderTest) {
    it(`gives every token of ${subject.name} the span of its own text`, () => {
      const tokenizer = createTokenizer(subject.json, subject.config);
      const library = new Tokenizer(subject.json, subject.config);
      let checked = 0;
      for (const text of TEXTS) {
        const encoded = tokenizer.encodeWithOffsets(text);
        checkOffsets(subject, library, text, encoded.tokens, encoded.special, encoded.offsets);
        checked += encoded.tokens.length;
      }
      expect(checked).toBeGreaterThan(TEXTS.length);
    });
  }

  it('maps lowercased, accent-stripped WordPiece tokens back to the original casing and accents', () => {
    const folder = join(mirrorFolder, 'sentiment-sst2-mini');
    if (!existsSync(folder)) return;
    const { json, config } = readFolder(folder, 'sentiment-sst2-mini');
    const text = 'Café NAÏVE';
    const encoded = createTokenizer(json, config).encodeWithOffsets(text);
    const surfaces = encoded.offsets.filter((_, index) => !encoded.special[index]).map(([start, end]) => text.slice(start, end));
    expect(surfaces.join('')).toBe('CaféNAÏVE');
    expect(encoded.tokens.filter((_, index) => !encoded.special[index]).join('').replaceAll('##', '')).toBe('cafenaive');
  });

  it('gives the tokens of one multi-byte character the span of that character', () => {
    const json = createByteLevelTokenizerJson();
    const text = 'a 🦜 b';
    const encoded = createTokenizer(json).encodeWithOffsets(text);
    const parrot = encoded.tokens.flatMap((token, index) => (encoded.offsets[index][0] === 2 ? [token] : []));
    expect(parrot.length).toBeGreaterThan(1); // 🦜 is not in the vocabulary, so it splits into byte tokens
    for (const [index, token] of encoded.tokens.entries()) {
      if (parrot.includes(token)) expect(encoded.offsets[index]).toEqual([2, 4]);
    }
  });

  it('gives a word of unknown characters one [UNK] spanning the whole word', () => {
    const folder = join(mirrorFolder, 'ner-conll03-mini-cased');
    if (!existsSync(folder)) return;
    const { json, config } = readFolder(folder, 'ner-conll03-mini-cased');
    const text = 'see Ωmega now';
    const encoded = createTokenizer(json, config).encodeWithOffsets(text);
    const unknown = encoded.tokens.indexOf('[UNK]');
    expect(unknown).toBeGreaterThan(0);
    expect(text.slice(...encoded.offsets[unknown])).toBe('Ωmega');
  });

  describe('the printable-ASCII shortcut', () => {
    const asciiTexts = [
      ...TEXTS.filter((text) => PRINTABLE_ASCII.test(text)),
      'Special tokens typed in: [CLS] [SEP] [UNK] <s> </s> <unk> [MASK]',
      '[SEP] first, then [CLS]',
      'double  spaces   and ~^`|{} symbols @#$% and ALL CAPS and MiXeD cAsE',
      'EU rejects German call to boycott British lamb .',
    ];
    for (const subject of tokenizersUnderTest) {
      it(`gives the same offsets as the general way for ${subject.name}`, () => {
        const tokenizer = createTokenizer(subject.json, subject.config);
        const shortcut = createTokenAligner(subject.json);
        const general = createTokenAligner(subject.json, { printableAsciiShortcut: false });
        for (const text of asciiTexts) {
          const { tokens, special } = tokenizer.encodeWithOffsets(text);
          expect(shortcut(text, tokens, special), `${subject.name}: ${JSON.stringify(text)}`).toEqual(general(text, tokens, special));
        }
      });
    }

    it('is taken by cased and uncased WordPiece, and not where the normalizer or pre-tokenizer rewrites ASCII', () => {
      const found = Object.fromEntries(tokenizersUnderTest.map((subject) => [subject.name, createTokenAligner(subject.json).printableAscii]));
      expect(found['inline byte-level BPE (RoBERTa style)']).toBeUndefined();
      if (hasMirror) {
        expect(found['ner-conll03-mini-cased']).toBe('same');
        expect(found['sentiment-sst2-mini']).toBe('lowercase');
        // SentencePiece's Metaspace turns spaces into "▁".
        expect(found['tinystories-260k']).toBeUndefined();
      }
    });
  });
});
