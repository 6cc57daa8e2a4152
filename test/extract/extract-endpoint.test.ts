import { beforeAll, describe, expect, it } from 'vitest';
import { extractEndpoint, type ExtractParameters } from '../../src/endpoints/extract-endpoint.ts';
import type { EndpointContext } from '../../src/spec/task-endpoint.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import type { Entity, EntityGroup, TokenEntity } from '../../src/tasks/extract/aggregate-entities.ts';
import type { EntityExtractor } from '../../src/tasks/extract/entity-extractor.ts';
import { InputError } from '../../src/tasks/input-error.ts';
import { enginesUnderTest } from '../support/engines.ts';
import { hasMirror, mirrorModelFiles } from '../support/shared-models.ts';

function context(parameters: ExtractParameters = {}, maxInputTokens = extractEndpoint.defaultLimits.maxInputTokens): EndpointContext<ExtractParameters> {
  return { parameters, limits: { ...extractEndpoint.defaultLimits, maxInputTokens }, stream: false, signal: new AbortController().signal };
}

describe('extractEndpoint schemas', () => {
  it('takes one non-empty text or a non-empty list of them', () => {
    expect(extractEndpoint.inputsSchema.safeParse('Angela Merkel').success).toBe(true);
    expect(extractEndpoint.inputsSchema.safeParse(['a', 'b']).success).toBe(true);
    expect(extractEndpoint.inputsSchema.safeParse('').success).toBe(false);
    expect(extractEndpoint.inputsSchema.safeParse([]).success).toBe(false);
    expect(extractEndpoint.inputsSchema.safeParse(42).success).toBe(false);
  });

  it("takes the Inference API's token-classification parameters and refuses anything else", () => {
    const parse = (value: unknown) => extractEndpoint.parametersSchema.safeParse(value).success;
    expect(parse({})).toBe(true);
    expect(parse({ aggregation_strategy: 'first', ignore_labels: ['O', 'MISC'], stride: 16 })).toBe(true);
    for (const strategy of ['none', 'simple', 'first', 'average', 'max']) expect(parse({ aggregation_strategy: strategy })).toBe(true);
    expect(parse({ aggregation_strategy: 'longest' })).toBe(false);
    expect(parse({ stride: -1 })).toBe(false);
    expect(parse({ stride: 1.5 })).toBe(false);
    expect(parse({ ignore_labels: 'O' })).toBe(false);
    expect(parse({ grouped_entities: true })).toBe(false);
  });
});

describe.skipIf(!hasMirror)('extractEndpoint with ner-conll03-mini-cased', () => {
  let runner: EntityExtractor;
  beforeAll(async () => {
    runner = await extractEndpoint.prepare(await loadModelBundle(mirrorModelFiles('ner-conll03-mini-cased'), enginesUnderTest[0].create()));
    await extractEndpoint.warmUp(runner);
  });

  it('answers one text with a flat list of entity groups (aggregation "simple" by default)', async () => {
    const answer = (await extractEndpoint.answer(runner, 'Angela Merkel met Emmanuel Macron in Paris on Tuesday', context())) as EntityGroup[];
    expect(Array.isArray(answer)).toBe(true);
    expect(answer.find((entity) => entity.word === 'Paris')).toMatchObject({ entity_group: 'LOC', start: 37, end: 42 });
    for (const entity of answer) expect(Object.keys(entity).sort()).toEqual(['end', 'entity_group', 'score', 'start', 'word']);
  });

  it('answers a list of texts with one list per text, and follows the parameters', async () => {
    const texts = ['Angela Merkel met Emmanuel Macron in Paris on Tuesday', 'Apple Inc. hired engineers from Google in California'];
    const answer = (await extractEndpoint.answer(runner, texts, context({ aggregation_strategy: 'first' }))) as Entity[][];
    expect(answer.map((entities) => entities.map((entity) => entity.word))).toEqual([
      ['Angela Merkel', 'Emmanuel Macron', 'Paris'],
      ['Apple Inc', 'Google', 'California'],
    ]);
    const tokens = (await extractEndpoint.answer(runner, texts[0], context({ aggregation_strategy: 'none', ignore_labels: ['O', 'I-PER'] }))) as TokenEntity[];
    expect(tokens.map((token) => token.entity)).not.toContain('I-PER');
    expect(tokens.every((token) => typeof token.index === 'number')).toBe(true);
  });

  it('refuses a text over the limit on input tokens with too_large', async () => {
    await expect(extractEndpoint.answer(runner, 'Paris and London and Berlin', context({}, 4))).rejects.toSatisfy(
      (error) => error instanceof InputError && error.reason === 'too_large',
    );
    await expect(extractEndpoint.answer(runner, ['fine', ''], context())).rejects.toSatisfy((error) => error instanceof InputError && error.reason === 'empty');
  });

  it('reads a text longer than the model within the limit, in windows', async () => {
    const text = 'Angela Merkel met Emmanuel Macron in Paris on Tuesday . '.repeat(30);
    const answer = (await extractEndpoint.answer(runner, text, context({ stride: 16 }))) as EntityGroup[];
    expect(answer.length).toBeGreaterThan(30);
    expect(answer.every((entity) => text.slice(entity.start, entity.end) === entity.word)).toBe(true);
  });

  it('describes its labels, window and defaults', () => {
    expect(extractEndpoint.describe(runner)).toMatchObject({
      labels: ['O', 'B-MISC', 'I-MISC', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC'],
      entity_types: ['MISC', 'PER', 'ORG', 'LOC'],
      max_tokens_per_window: 128,
      default_stride: 31,
      aggregation_strategy: 'simple',
    });
  });
});
