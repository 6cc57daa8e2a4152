import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyEndpoint, type ClassifyParameters } from '../../src/endpoints/classify-endpoint.ts';
import { extractEndpoint, type ExtractParameters } from '../../src/endpoints/extract-endpoint.ts';
import type { BatchedRequest, TaskEndpoint } from '../../src/spec/task-endpoint.ts';
import type { FunctionLimits } from '../../src/spec/function-limits.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { measureWithTokenizer } from '../../src/endpoints/measure-with-tokenizer.ts';
import type { Classifier, LabelScore } from '../../src/tasks/classify/classify.ts';
import type { EntityGroup } from '../../src/tasks/extract/aggregate-entities.ts';
import type { EntityExtractor } from '../../src/tasks/extract/entity-extractor.ts';
import { InputError } from '../../src/tasks/input-error.ts';
import { enginesUnderTest } from '../support/engines.ts';
import { datasetPath, mirrorFolder, mirrorModelFiles } from '../support/shared-models.ts';

const SCORE_TOLERANCE = 1e-5;
const NEVER = new AbortController().signal;

async function readSst2(count: number): Promise<string[]> {
  const lines = (await readFile(datasetPath('sst2', 'test.tsv'), 'utf8')).split('\n').slice(1);
  return lines.map((line) => line.split('\t')[0]?.trim() ?? '').filter(Boolean).slice(0, count);
}

async function readConll(count: number): Promise<string[]> {
  const sentences: string[] = [];
  let words: string[] = [];
  for (const line of (await readFile(datasetPath('conll2003', 'test.txt'), 'utf8')).split('\n')) {
    const word = line.split(' ')[0];
    if (word && word !== '-DOCSTART-') words.push(word);
    else if (words.length > 0) {
      sentences.push(words.join(' '));
      words = [];
      if (sentences.length >= count) break;
    }
  }
  return sentences;
}

/** Answers every request alone, as a server without batching would. */
async function answerAlone<Runner, Inputs, Parameters>(
  endpoint: TaskEndpoint<Runner, Inputs, Parameters>,
  runner: Runner,
  requests: readonly BatchedRequest<Inputs, Parameters>[],
  limits: Required<FunctionLimits>,
) {
  const answers = [];
  for (const { inputs, parameters } of requests) {
    try {
      answers.push({ ok: true as const, value: await endpoint.answer(runner, inputs, { parameters, limits, stream: false, signal: NEVER }) });
    } catch (error) {
      answers.push({ ok: false as const, error });
    }
  }
  return answers;
}

function expectSameLabelScores(batched: LabelScore[][], alone: LabelScore[][]) {
  expect(batched.map((labels) => labels.map((entry) => entry.label))).toEqual(alone.map((labels) => labels.map((entry) => entry.label)));
  batched.flat().forEach((entry, index) => expect(Math.abs(entry.score - alone.flat()[index].score)).toBeLessThan(SCORE_TOLERANCE));
}

function expectSameEntities(batched: EntityGroup[], alone: EntityGroup[]) {
  const withoutScores = (entities: EntityGroup[]) => entities.map(({ score: _score, ...rest }) => rest);
  expect(withoutScores(batched)).toEqual(withoutScores(alone));
  batched.forEach((entity, index) => expect(Math.abs(entity.score - alone[index].score)).toBeLessThan(SCORE_TOLERANCE));
}

describe.each(enginesUnderTest)('batched answers equal one-by-one answers ($name)', (engineUnderTest) => {
  const engine = engineUnderTest.create();

  describe('classify: sentiment-sst2-mini', () => {
    let classifier: Classifier;
    let texts: string[];
    const limits = classifyEndpoint.defaultLimits;
    beforeAll(async () => {
      classifier = await classifyEndpoint.prepare(await loadModelBundle(mirrorModelFiles('sentiment-sst2-mini'), engine));
      texts = await readSst2(48);
    });

    it('gives every request of a batch of mixed lengths and parameters its own labels and scores', async () => {
      const parameterSets: ClassifyParameters[] = [{ top_k: null }, { top_k: null }, { top_k: 1 }, { top_k: null, function_to_apply: 'sigmoid' }];
      const requests: BatchedRequest<string | string[], ClassifyParameters>[] = texts.slice(0, 24).map((text, index) => ({
        // Some requests carry several texts, as the Inference API allows.
        inputs: index % 5 === 0 ? [text, texts[24 + index]] : text,
        parameters: parameterSets[index % parameterSets.length],
      }));
      const batched = await classifyEndpoint.answerBatch!(classifier, requests, limits);
      const alone = await answerAlone(classifyEndpoint, classifier, requests, limits);
      expect(batched.every((answer) => answer.ok)).toBe(true);
      batched.forEach((answer, index) => {
        const expected = alone[index];
        if (!answer.ok || !expected.ok) throw new Error('every request should have been answered');
        expectSameLabelScores(answer.value, expected.value as LabelScore[][]);
      });
    });

    it('matches the sanity table of the model README in a batch', async () => {
      const sanity = JSON.parse(await readFile(join(mirrorFolder, 'sentiment-sst2-mini/sanity.json'), 'utf8')).sentences as {
        text: string;
        node: { probs: Record<string, number>; label: string };
      }[];
      const answers = await classifyEndpoint.answerBatch!(classifier, sanity.map((sentence) => ({ inputs: sentence.text, parameters: { top_k: null } })), limits);
      answers.forEach((answer, index) => {
        if (!answer.ok) throw answer.error;
        const [labels] = answer.value;
        expect(labels[0].label).toBe(sanity[index].node.label);
        for (const { label, score } of labels) expect(score).toBeCloseTo(sanity[index].node.probs[label], 3);
      });
    });

    it('fails only the request with an input over the limit (413), answering the others', async () => {
      const tooLong = Array.from({ length: 60 }, () => texts[0]).join(' ');
      const requests = [texts[1], tooLong, texts[2]].map((inputs) => ({ inputs, parameters: { top_k: null } }));
      const [first, refused, last] = await classifyEndpoint.answerBatch!(classifier, requests, limits);
      expect(refused.ok).toBe(false);
      expect(!refused.ok && refused.error).toBeInstanceOf(InputError);
      expect(!refused.ok && (refused.error as InputError).reason).toBe('too_large');
      const alone = await answerAlone(classifyEndpoint, classifier, [requests[0], requests[2]], limits);
      if (!first.ok || !last.ok || !alone[0].ok || !alone[1].ok) throw new Error('the other requests should have been answered');
      expectSameLabelScores(first.value, alone[0].value as LabelScore[][]);
      expectSameLabelScores(last.value, alone[1].value as LabelScore[][]);
    });

    it('sizes requests by the model tokenizer for the scheduler', async () => {
      const measure = measureWithTokenizer(await loadModelBundle(mirrorModelFiles('sentiment-sst2-mini'), engine));
      const tokens = classifier.textEncoder.encode(texts[0], { truncate: false, maxTokens: 128 }).length;
      expect(measure(texts[0])).toEqual({ rows: 1, longest: tokens, tokens });
      expect(measure([texts[0], texts[0]]).rows).toBe(2);
    });
  });

  describe('extract: ner-conll03-mini-cased', () => {
    let extractor: EntityExtractor;
    let texts: string[];
    const limits = extractEndpoint.defaultLimits;
    beforeAll(async () => {
      extractor = await extractEndpoint.prepare(await loadModelBundle(mirrorModelFiles('ner-conll03-mini-cased'), engine));
      texts = (await readConll(80)).filter((text) => text.split(' ').length >= 4).slice(0, 24);
    });

    it('gives every request of a batch its own entities, offsets and scores, long texts read in windows included', async () => {
      // One text longer than the model's 128 tokens, read in overlapping windows, shares the batch.
      const long = texts.slice(0, 12).join(' ');
      const parameterSets: ExtractParameters[] = [{ aggregation_strategy: 'first' }, { aggregation_strategy: 'first' }, { aggregation_strategy: 'simple' }];
      const requests: BatchedRequest<string | string[], ExtractParameters>[] = [
        ...texts.map((text, index) => ({ inputs: index % 7 === 0 ? [text, texts[(index + 3) % texts.length]] : text, parameters: parameterSets[index % 3] })),
        { inputs: long, parameters: { aggregation_strategy: 'first' } },
      ];
      expect(extractor.tokenizer.encode(long).ids.length).toBeGreaterThan(extractor.maxLength);
      const batched = await extractEndpoint.answerBatch!(extractor, requests, limits);
      const alone = await answerAlone(extractEndpoint, extractor, requests, limits);
      let entities = 0;
      batched.forEach((answer, index) => {
        const expected = alone[index];
        if (!answer.ok || !expected.ok) throw new Error('every request should have been answered');
        const [got, want] = [answer.value, expected.value] as [EntityGroup[] | EntityGroup[][], EntityGroup[] | EntityGroup[][]];
        const gotLists = Array.isArray(requests[index].inputs) ? (got as EntityGroup[][]) : [got as EntityGroup[]];
        const wantLists = Array.isArray(requests[index].inputs) ? (want as EntityGroup[][]) : [want as EntityGroup[]];
        expect(gotLists).toHaveLength(wantLists.length);
        gotLists.forEach((list, position) => expectSameEntities(list, wantLists[position]));
        entities += gotLists.flat().length;
      });
      expect(entities).toBeGreaterThan(20);
    });

    it('finds the entities sanity.json lists for its demo sentences, all in one batch', async () => {
      const sanity = JSON.parse(await readFile(join(mirrorFolder, 'ner-conll03-mini-cased/sanity.json'), 'utf8')).sentences as {
        text: string;
        entities: { type: string; text: string }[];
      }[];
      const requests = [...sanity.map((sentence) => sentence.text), texts[0]].map((inputs) => ({ inputs, parameters: { aggregation_strategy: 'first' as const } }));
      const answers = await extractEndpoint.answerBatch!(extractor, requests, limits);
      sanity.forEach((sentence, index) => {
        const answer = answers[index];
        if (!answer.ok) throw answer.error;
        const found = answer.value as EntityGroup[];
        expect(found.map((entity) => ({ type: entity.entity_group, text: entity.word }))).toEqual(sentence.entities);
        for (const entity of found) expect(sentence.text.slice(entity.start, entity.end)).toBe(entity.word);
      });
    });
  });
});
