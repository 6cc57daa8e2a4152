import { describe, expect, it } from 'vitest';
import { aggregateEntities, type EntityGroup, type PreEntity, type TokenEntity } from '../../src/tasks/extract/aggregate-entities.ts';

/**
 * The hand-built examples of transformers' tests/pipelines/test_pipelines_token_classification.py
 * (test_aggregation_strategy, test_aggregation_strategy_example2, test_aggregation_strategy_no_b_i_prefix) and the
 * examples in TokenClassificationPipeline's docstrings, with the answers transformers gives for them.
 */

const CONLL_LABELS = ['O', 'B-MISC', 'I-MISC', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC'];

/** A score vector with the given probabilities at the given label indices and zeros elsewhere. */
function scores(length: number, entries: Record<number, number>): number[] {
  return Array.from({ length }, (_, index) => entries[index] ?? 0);
}

function groupAndWord(entity: TokenEntity | EntityGroup): [string, string] {
  return [(entity as EntityGroup).entity_group, entity.word];
}

function round(entities: (TokenEntity | EntityGroup)[]) {
  return entities.map((entity) => ({ ...entity, score: Math.round(entity.score * 1000) / 1000 }));
}

describe('aggregateEntities (transformers TokenClassificationPipeline semantics)', () => {
  // "Enzo works UN": En [0,2] ##zo [2,4] UN [11,13], as in transformers' test_aggregation_strategy.
  const enzoText = 'Enzo works UN';
  const enzo: PreEntity[] = [
    { word: 'En', scores: scores(9, { 4: 0.9968166351318359 }), index: 1, isSubword: false, start: 0, end: 2 },
    { word: '##zo', scores: scores(9, { 4: 0.9957635998725891 }), index: 2, isSubword: true, start: 2, end: 4 },
    { word: 'UN', scores: scores(9, { 5: 0.9986497163772583 }), index: 7, isSubword: false, start: 11, end: 13 },
  ];

  it('none: one entity per token with its best label, index and token string', () => {
    expect(round(aggregateEntities(enzoText, enzo, CONLL_LABELS, 'none'))).toEqual([
      { end: 2, entity: 'I-PER', score: 0.997, start: 0, word: 'En', index: 1 },
      { end: 4, entity: 'I-PER', score: 0.996, start: 2, word: '##zo', index: 2 },
      { end: 13, entity: 'B-ORG', score: 0.999, start: 11, word: 'UN', index: 7 },
    ]);
  });

  it('simple, first, max and average group "Enzo" and "UN" with transformers scores', () => {
    const expected = (personScore: number) => [
      { entity_group: 'PER', score: personScore, word: 'Enzo', start: 0, end: 4 },
      { entity_group: 'ORG', score: 0.999, word: 'UN', start: 11, end: 13 },
    ];
    expect(round(aggregateEntities(enzoText, enzo, CONLL_LABELS, 'simple'))).toEqual(expected(0.996));
    expect(round(aggregateEntities(enzoText, enzo, CONLL_LABELS, 'first'))).toEqual(expected(0.997));
    expect(round(aggregateEntities(enzoText, enzo, CONLL_LABELS, 'max'))).toEqual(expected(0.997));
    expect(round(aggregateEntities(enzoText, enzo, CONLL_LABELS, 'average'))).toEqual(expected(0.996));
  });

  it('first, max and average disagree on a word whose sub-tokens disagree (example2)', () => {
    // transformers' example2 with the spans moved onto a real text: Ra ##ma ##zotti = "Ramazotti".
    const text = 'Ramazotti sings';
    const ramazotti: PreEntity[] = [
      { word: 'Ra', scores: scores(10, { 1: 0.55, 3: 0.45 }), isSubword: false, index: 1, start: 0, end: 2 },
      { word: '##ma', scores: scores(10, { 3: 0.2, 7: 0.8 }), isSubword: true, index: 2, start: 2, end: 4 },
      { word: '##zotti', scores: scores(10, { 3: 0.4, 6: 0.6 }), isSubword: true, index: 3, start: 4, end: 9 },
    ];
    const labels = [...CONLL_LABELS, 'UNUSED'];
    expect(aggregateEntities(text, ramazotti, labels, 'none').map((entity) => (entity as TokenEntity).entity)).toEqual(['B-MISC', 'B-LOC', 'I-ORG']);
    expect(aggregateEntities(text, ramazotti, labels, 'first')).toEqual([{ entity_group: 'MISC', score: 0.55, word: 'Ramazotti', start: 0, end: 9 }]);
    expect(aggregateEntities(text, ramazotti, labels, 'max')).toEqual([{ entity_group: 'LOC', score: 0.8, word: 'Ramazotti', start: 0, end: 9 }]);
    // B-PER has the highest average (0.35) though no single sub-token picks it.
    expect(round(aggregateEntities(text, ramazotti, labels, 'average'))).toEqual([{ entity_group: 'PER', score: 0.35, word: 'Ramazotti', start: 0, end: 9 }]);
  });

  it('treats labels without a B-/I- prefix as continuing ones (no_b_i_prefix)', () => {
    const labels = ['O', 'MISC', 'PER', 'ORG', 'LOC'];
    const example: PreEntity[] = [
      { word: 'En', scores: scores(5, { 4: 0.9968166351318359 }), index: 1, isSubword: false, start: 0, end: 2 },
      { word: '##zo', scores: scores(5, { 4: 0.9957635998725891 }), index: 2, isSubword: true, start: 2, end: 4 },
      { word: 'UN', scores: scores(5, { 3: 0.9986497163772583 }), index: 7, isSubword: false, start: 11, end: 13 },
    ];
    expect(round(aggregateEntities(enzoText, example, labels, 'none'))).toEqual([
      { end: 2, entity: 'LOC', score: 0.997, start: 0, word: 'En', index: 1 },
      { end: 4, entity: 'LOC', score: 0.996, start: 2, word: '##zo', index: 2 },
      { end: 13, entity: 'ORG', score: 0.999, start: 11, word: 'UN', index: 7 },
    ]);
    expect(round(aggregateEntities(enzoText, example, labels, 'simple'))).toEqual([
      { entity_group: 'LOC', score: 0.996, word: 'Enzo', start: 0, end: 4 },
      { entity_group: 'ORG', score: 0.999, word: 'UN', start: 11, end: 13 },
    ]);
  });

  it('simple: (A, B-TAG), (B, I-TAG), (C, I-TAG), (D, B-TAG2), (E, B-TAG2) gives ABC/TAG, D/TAG2, E/TAG2', () => {
    const labels = ['O', 'B-TAG', 'I-TAG', 'B-TAG2', 'I-TAG2'];
    const text = 'A B C D E';
    const best = [1, 2, 2, 3, 3];
    const tokens: PreEntity[] = best.map((label, position) => ({
      word: text[position * 2],
      scores: scores(5, { [label]: 0.9 }),
      index: position + 1,
      isSubword: false,
      start: position * 2,
      end: position * 2 + 1,
    }));
    expect(aggregateEntities(text, tokens, labels, 'simple').map(groupAndWord)).toEqual([
      ['TAG', 'A B C'],
      ['TAG2', 'D'],
      ['TAG2', 'E'],
    ]);
  });

  it('first: micro|soft| com|pany| B-ENT I-NAME I-ENT I-ENT becomes one ENT entity, words kept whole', () => {
    const labels = ['O', 'B-ENT', 'I-ENT', 'B-NAME', 'I-NAME'];
    const text = 'microsoft company';
    const pieces: [string, number, number, number, boolean][] = [
      ['micro', 0, 5, 1, false],
      ['##soft', 5, 9, 4, true],
      ['com', 10, 13, 2, false],
      ['##pany', 13, 17, 2, true],
    ];
    const tokens: PreEntity[] = pieces.map(([word, start, end, label, isSubword], position) => ({
      word,
      scores: scores(5, { [label]: 0.9 }),
      index: position + 1,
      isSubword,
      start,
      end,
    }));
    expect(aggregateEntities(text, tokens, labels, 'first').map(groupAndWord)).toEqual([['ENT', 'microsoft company']]);
    // simple, by contrast, splits "micro" from "soft".
    expect(aggregateEntities(text, tokens, labels, 'simple').map(groupAndWord)).toEqual([
      ['ENT', 'micro'],
      ['NAME', 'soft'],
      ['ENT', 'company'],
    ]);
  });

  it('leaves out ignore_labels, matched against token labels for none and entity groups otherwise', () => {
    expect(aggregateEntities(enzoText, enzo, CONLL_LABELS, 'none', ['O', 'I-PER']).map((entity) => entity.word)).toEqual(['UN']);
    expect(aggregateEntities(enzoText, enzo, CONLL_LABELS, 'simple', ['PER']).map((entity) => entity.word)).toEqual(['UN']);
    const withWorks: PreEntity[] = [...enzo.slice(0, 2), { word: 'works', scores: scores(9, { 0: 0.9 }), index: 3, isSubword: false, start: 5, end: 10 }, enzo[2]];
    expect(aggregateEntities(enzoText, withWorks, CONLL_LABELS, 'simple').map((entity) => entity.word)).toEqual(['Enzo', 'UN']);
    expect(aggregateEntities(enzoText, withWorks, CONLL_LABELS, 'simple', []).map((entity) => [(entity as EntityGroup).entity_group, entity.word])).toEqual([
      ['PER', 'Enzo'],
      ['O', 'works'],
      ['ORG', 'UN'],
    ]);
  });
});
