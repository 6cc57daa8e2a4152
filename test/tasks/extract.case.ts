import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { AGGREGATION_STRATEGIES, type Entity, type EntityGroup, type TokenEntity } from '../../src/tasks/extract/aggregate-entities.ts';
import { createEntityExtractor, type EntityExtractor } from '../../src/tasks/extract/entity-extractor.ts';
import { extractEntities } from '../../src/tasks/extract/extract-entities.ts';
import { InputError } from '../../src/tasks/input-error.ts';
import type { ConformanceCases, ConformanceContext } from './conformance.ts';

interface SanitySentence {
  text: string;
  tokens: string[];
  words: string[];
  tags: string[];
  entities: { type: string; text: string }[];
}

/** Texts with accents, emoji (surrogate pairs, joiners, modifiers), a flag, CJK and odd spacing around names. */
const AWKWARD_TEXTS = [
  'Angela Merkel met José Müller in Zürich 😀 on Tuesday.',
  'Café owner Søren Ærø visited Köln 🇩🇪 and Paris with 👨‍👩‍👧 friends',
  'Nadim Ladki 👍🏽 left AL-AIN , United Arab Emirates\tfor  London\nyesterday',
  '東京 hosted Emmanuel Macron; naïve reporters from Reuters cheered!',
];

const isGroup = (entity: Entity): entity is EntityGroup => 'entity_group' in entity;
const cutsSurrogatePair = (text: string, index: number) => index > 0 && index < text.length && /[\uDC00-\uDFFF]/.test(text[index]);

/**
 * Whatever the strategy: spans inside the text, in order, never cutting a character, never starting or ending in
 * whitespace. Word-level groups are also disjoint; tokens (and token-level groups) may share the one character
 * they each hold bytes of.
 */
function expectWellFormedSpans(text: string, entities: readonly Entity[], disjoint: boolean): void {
  let previous = { start: 0, end: 0 };
  for (const entity of entities) {
    const { start, end } = entity;
    const context = `${JSON.stringify(entity)} in ${JSON.stringify(text)}`;
    expect(0 <= start && start < end && end <= text.length, context).toBe(true);
    expect(cutsSurrogatePair(text, start) || cutsSurrogatePair(text, end), context).toBe(false);
    expect(/^\s|\s$/u.test(text.slice(start, end)), context).toBe(false);
    if (isGroup(entity)) expect(entity.word).toBe(text.slice(start, end));
    expect(start, context).toBeGreaterThanOrEqual(disjoint ? previous.end : previous.start);
    previous = entity;
  }
}

const isWordLevel = (strategy: string) => strategy === 'first' || strategy === 'average' || strategy === 'max';

function expectSameEntities(batched: readonly Entity[], single: readonly Entity[]): void {
  expect(batched.map(({ score, ...rest }) => rest)).toEqual(single.map(({ score, ...rest }) => rest));
  batched.forEach((entity, index) => expect(Math.abs(entity.score - single[index].score)).toBeLessThan(1e-5));
}

/** Cases that hold for any token classifier: shapes, spans, batching, windows, refusals. */
function describeGenericCases(name: string, getExtractor: () => EntityExtractor): void {
  it(`${name}: answers every aggregation strategy in the Hugging Face shape`, async () => {
    const extractor = getExtractor();
    const text = AWKWARD_TEXTS[0];
    for (const strategy of AGGREGATION_STRATEGIES) {
      const [entities] = await extractEntities(extractor, [text], { aggregationStrategy: strategy, ignoreLabels: [] });
      expect(entities.length, strategy).toBeGreaterThan(0);
      for (const entity of entities) {
        const keys = strategy === 'none' ? ['end', 'entity', 'index', 'score', 'start', 'word'] : ['end', 'entity_group', 'score', 'start', 'word'];
        expect(Object.keys(entity).sort()).toEqual(keys);
        expect(entity.score).toBeGreaterThan(0);
        expect(entity.score).toBeLessThanOrEqual(1 + 1e-6);
        const label = isGroup(entity) ? entity.entity_group : entity.entity;
        expect(extractor.labels.some((candidate) => candidate === label || candidate.endsWith(`-${label}`)), label).toBe(true);
      }
      expectWellFormedSpans(text, entities, isWordLevel(strategy));
    }
  });

  it(`${name}: keeps spans on the original text around accents, emoji and CJK`, async () => {
    const extractor = getExtractor();
    for (const strategy of AGGREGATION_STRATEGIES) {
      const results = await extractEntities(extractor, AWKWARD_TEXTS, { aggregationStrategy: strategy, ignoreLabels: [] });
      results.forEach((entities, index) => expectWellFormedSpans(AWKWARD_TEXTS[index], entities, isWordLevel(strategy)));
    }
    // Token by token, every character the model read is in some token's span.
    const [tokens] = await extractEntities(extractor, [AWKWARD_TEXTS[1]], { aggregationStrategy: 'none', ignoreLabels: [] });
    const text = AWKWARD_TEXTS[1];
    const covered = new Uint8Array(text.length);
    for (const { start, end } of tokens) covered.fill(1, start, end);
    for (const word of ['Café', 'Søren', 'Ærø', 'Köln', '🇩🇪', 'Paris']) {
      const at = text.indexOf(word);
      expect(covered.subarray(at, at + word.length).every((value) => value === 1), word).toBe(true);
    }
  });

  it(`${name}: gives a padded batch the same entities as one-by-one runs`, async () => {
    const extractor = getExtractor();
    const texts = ['Paris', ...AWKWARD_TEXTS, 'Angela Merkel met Emmanuel Macron in Paris on Tuesday. '.repeat(12)];
    for (const strategy of ['none', 'simple', 'first'] as const) {
      const batched = await extractEntities(extractor, texts, { aggregationStrategy: strategy, ignoreLabels: [] });
      for (const [index, text] of texts.entries()) {
        const [single] = await extractEntities(extractor, [text], { aggregationStrategy: strategy, ignoreLabels: [] });
        expectSameEntities(batched[index], single);
      }
    }
  });

  it(`${name}: reads a text longer than the model in windows, labelling every token once`, async () => {
    const extractor = getExtractor();
    const text = Array.from({ length: 40 }, (_, index) => `Report ${index} : Angela Merkel met Emmanuel Macron in Paris .`).join(' ');
    const tokenCount = extractor.tokenizer.encode(text, { addSpecialTokens: false }).ids.length;
    expect(tokenCount).toBeGreaterThan(extractor.windowSize * 3);
    // Every token that stands for some text (not RoBERTa's added prefix space) is labelled once, in order.
    const encoded = extractor.tokenizer.encodeWithOffsets(text);
    const labelled = encoded.offsets.flatMap(([start, end], index) => (!encoded.special[index] && /\S/u.test(text.slice(start, end)) ? [index] : []));
    const covered = new Uint8Array(text.length);
    for (const index of labelled) covered.fill(1, ...encoded.offsets[index]);
    expect([...text].every((char, index) => covered[index] === 1 || char === ' ')).toBe(true);
    for (const stride of [0, Math.floor(extractor.windowSize / 4)]) {
      const [tokens] = await extractEntities(extractor, [text], { aggregationStrategy: 'none', ignoreLabels: [], stride });
      expect(tokens.map((token) => (token as TokenEntity).index)).toEqual(labelled);
      const [words] = await extractEntities(extractor, [text], { aggregationStrategy: 'first', ignoreLabels: [], stride });
      expectWellFormedSpans(text, words, true);
      // With O kept, the groups tile the text: every character but the spaces is in exactly one group.
      const grouped = new Uint8Array(text.length);
      for (const { start, end } of words) grouped.fill(1, start, end);
      expect([...text].every((char, index) => grouped[index] === 1 || char === ' ')).toBe(true);
    }
  });

  it(`${name}: refuses empty text, too many tokens and a stride as long as a window`, async () => {
    const extractor = getExtractor();
    const reason = (error: unknown) => (error instanceof InputError ? error.reason : String(error));
    await expect(extractEntities(extractor, [''])).rejects.toSatisfy((error) => reason(error) === 'empty');
    await expect(extractEntities(extractor, ['Paris and London are cities'], { maxTokens: 4 })).rejects.toSatisfy((error) => reason(error) === 'too_large');
    await expect(extractEntities(extractor, ['Paris'], { stride: extractor.windowSize })).rejects.toSatisfy((error) => reason(error) === 'invalid');
    expect(await extractEntities(extractor, [])).toEqual([]);
  });
}

export const extractCases: ConformanceCases = (context: ConformanceContext) => {
  describe('extract: ner-conll03-mini-cased (cased WordPiece BERT)', () => {
    let extractor: EntityExtractor;
    let sentences: SanitySentence[];
    beforeAll(async () => {
      extractor = await createEntityExtractor(await loadModelBundle(context.sharedModel('ner-conll03-mini-cased'), context.engine));
      sentences = JSON.parse(await context.readSharedText('ner-conll03-mini-cased/sanity.json')).sentences;
    });

    it('finds exactly the entities sanity.json lists for its demo sentences (aggregation first)', async () => {
      expect(sentences).toHaveLength(3);
      const results = await extractEntities(extractor, sentences.map((sentence) => sentence.text), { aggregationStrategy: 'first' });
      results.forEach((entities, index) => {
        expect(entities.map((entity) => ({ type: (entity as EntityGroup).entity_group, text: entity.word }))).toEqual(sentences[index].entities);
      });
    });

    it('tags each word as sanity.json does, from its first sub-token', async () => {
      const results = await extractEntities(extractor, sentences.map((sentence) => sentence.text), { aggregationStrategy: 'none', ignoreLabels: [] });
      results.forEach((tokens, index) => {
        const { text, words, tags } = sentences[index];
        const encoded = extractor.tokenizer.encode(text);
        expect(encoded.tokens).toEqual(sentences[index].tokens);
        let from = 0;
        const wordTags = words.map((word) => {
          const start = text.indexOf(word, from);
          from = start + word.length;
          return (tokens as TokenEntity[]).find((token) => token.start === start)?.entity;
        });
        expect(wordTags).toEqual(tags);
        // Each token's span is its own text in the original (cased model: the token less "##").
        for (const token of tokens as TokenEntity[]) expect(text.slice(token.start, token.end)).toBe(token.word.replace(/^##/, ''));
      });
    });

    it('maps an unknown word to one [UNK] token spanning the whole word', async () => {
      const text = 'Angela Merkel 😀 met Ωmega in Paris';
      const [tokens] = await extractEntities(extractor, [text], { aggregationStrategy: 'none', ignoreLabels: [] });
      const words = (tokens as TokenEntity[]).map((token) => text.slice(token.start, token.end));
      expect(words).toContain('😀');
      expect(words).toContain('Ωmega');
    });

    describeGenericCases('ner-conll03-mini-cased', () => extractor);
  });

  for (const name of ['tiny-bert-token-classification', 'tiny-roberta-token-classification']) {
    describe(`extract: ${name} (generated, random weights)`, () => {
      let extractor: EntityExtractor;
      beforeAll(async () => {
        extractor = await createEntityExtractor(await loadModelBundle(context.generatedModel(name), context.engine));
      });

      it('reads the model limits and special tokens from its config files', () => {
        expect(extractor.maxLength).toBe(32);
        expect(extractor.prefixIds).toHaveLength(1);
        expect(extractor.suffixIds).toHaveLength(1);
        expect(extractor.labels).toEqual(['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']);
      });

      it('keeps whole words together with the word-level strategies', async () => {
        for (const strategy of ['first', 'average', 'max'] as const) {
          const results = await extractEntities(extractor, AWKWARD_TEXTS, { aggregationStrategy: strategy, ignoreLabels: [] });
          results.forEach((groups, index) => {
            const text = AWKWARD_TEXTS[index];
            for (const { start, end } of groups) {
              // A group never starts or ends inside a run of Latin letters: words are not cut. (BERT makes each CJK
              // character a word of its own, so CJK is left out.)
              const letter = (char: string | undefined) => char !== undefined && /\p{Script=Latin}/u.test(char);
              expect(letter(text[start - 1]) && letter(text[start]), `${strategy}: ${text.slice(start, end)}`).toBe(false);
              expect(letter(text[end - 1]) && letter(text[end]), `${strategy}: ${text.slice(start, end)}`).toBe(false);
            }
          });
        }
      });

      describeGenericCases(name, () => extractor);
    });
  }
};
