import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { classify, createClassifier, type Classifier } from '../../src/tasks/classify/classify.ts';
import { InputError } from '../../src/tasks/input-error.ts';
import type { ConformanceCases } from './conformance.ts';

interface SanitySentence {
  text: string;
  node: { probs: Record<string, number>; label: string };
}

export const classifyCases: ConformanceCases = (context) => {
  describe('classify: sentiment-sst2-mini (BERT sequence classifier)', () => {
    let classifier: Classifier;
    let sanity: SanitySentence[];
    beforeAll(async () => {
      classifier = await createClassifier(await loadModelBundle(context.sharedModel('sentiment-sst2-mini'), context.engine));
      sanity = JSON.parse(await context.readSharedText('sentiment-sst2-mini/sanity.json')).sentences;
    });

    it('reproduces every sentence of the model README sanity table', async () => {
      expect(sanity.length).toBeGreaterThanOrEqual(7);
      const results = await classify(classifier, sanity.map((sentence) => sentence.text), { topK: null });
      results.forEach((labels, index) => {
        const expected = sanity[index].node;
        expect(labels[0].label).toBe(expected.label);
        for (const { label, score } of labels) expect(score).toBeCloseTo(expected.probs[label], 3);
      });
    });

    it('returns labels best first, top_k of them, with softmax scores summing to 1', async () => {
      const [all] = await classify(classifier, ['I love this'], { topK: 0 });
      expect(all.map((entry) => entry.label)).toEqual(['POSITIVE', 'NEGATIVE']);
      expect(all[0].score + all[1].score).toBeCloseTo(1, 6);
      const [top] = await classify(classifier, ['I love this']);
      expect(top).toHaveLength(1);
      const [raw] = await classify(classifier, ['I love this'], { topK: null, scoreFunction: 'none' });
      // Raw logits from sanity.json: [-2.68619, 2.46107].
      expect(raw[0].score).toBeCloseTo(2.46107, 3);
      expect(raw[1].score).toBeCloseTo(-2.68619, 3);
      const [sigmoid] = await classify(classifier, ['I love this'], { topK: null, scoreFunction: 'sigmoid' });
      expect(sigmoid[0].score).toBeCloseTo(1 / (1 + Math.exp(-2.46107)), 4);
    });

    it('gives a padded batch the same answers as one-by-one runs', async () => {
      const texts = ['I love this', 'The movie was boring and far too long', 'ok', 'An absolute masterpiece of a film, moving and funny'];
      const batched = await classify(classifier, texts, { topK: null });
      for (const [index, text] of texts.entries()) {
        const [single] = await classify(classifier, [text], { topK: null });
        single.forEach((entry, rank) => {
          expect(batched[index][rank].label).toBe(entry.label);
          expect(Math.abs(batched[index][rank].score - entry.score)).toBeLessThan(1e-5);
        });
      }
    });

    it('reproduces the README test accuracy (0.8232) on the held-out SST-2 test split', async () => {
      const rows = (await context.readSharedText('datasets/sst2/test.tsv'))
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split('\t'));
      expect(rows).toHaveLength(1821);
      let correct = 0;
      for (let start = 0; start < rows.length; start += 32) {
        const batch = rows.slice(start, start + 32);
        const results = await classify(classifier, batch.map(([sentence]) => sentence), { truncate: true });
        results.forEach(([best], index) => {
          if (best.label === (batch[index][1] === '1' ? 'POSITIVE' : 'NEGATIVE')) correct++;
        });
      }
      expect(Math.abs(correct / rows.length - 0.8232)).toBeLessThanOrEqual(0.005);
    });

    it('refuses over-long input with too_large, and truncates it when asked', async () => {
      const long = 'great '.repeat(400);
      await expect(classify(classifier, [long])).rejects.toSatisfy((error) => error instanceof InputError && error.reason === 'too_large');
      const [labels] = await classify(classifier, [long], { truncate: true });
      expect(labels[0].label).toBe('POSITIVE');
      await expect(classify(classifier, [''])).rejects.toSatisfy((error) => error instanceof InputError && error.reason === 'empty');
    });
  });

  describe('classify: sentiment-tflite-avgwordvec-imdb (average word vectors, input_ids only)', () => {
    it('reproduces the sanity.json labels and logits', async () => {
      const classifier = await createClassifier(await loadModelBundle(context.sharedModel('sentiment-tflite-avgwordvec-imdb'), context.engine));
      const cases: { text: string; logits: [number, number]; label: string }[] = JSON.parse(
        await context.readSharedText('sentiment-tflite-avgwordvec-imdb/sanity.json'),
      ).cases;
      const texts = cases.map((entry) => entry.text);
      const labels = await classify(classifier, texts);
      const logits = await classify(classifier, texts, { topK: null, scoreFunction: 'none' });
      cases.forEach((expected, index) => {
        expect(labels[index][0].label).toBe(expected.label);
        for (const { label, score } of logits[index]) expect(score).toBeCloseTo(expected.logits[classifier.labels.indexOf(label)], 4);
      });
    });
  });

  describe('classify: langid-fasttext-lid176 (fastText featurizer, 176 labels)', () => {
    it('matches official fastText top-3 probabilities from sanity.json', async () => {
      const classifier = await createClassifier(await loadModelBundle(context.sharedModel('langid-fasttext-lid176'), context.engine));
      const cases: { text: string; fasttext_wasm_top3: [string, number][] }[] = JSON.parse(
        await context.readSharedText('langid-fasttext-lid176/sanity.json'),
      ).cases;
      expect(cases.length).toBeGreaterThanOrEqual(10);
      const results = await classify(classifier, cases.map((entry) => entry.text), { topK: 3 });
      results.forEach((labels, index) => {
        const expected = cases[index].fasttext_wasm_top3;
        expect(labels.map((entry) => entry.label)).toEqual(expected.map(([label]) => label));
        labels.forEach((entry, rank) => expect(Math.abs(entry.score - expected[rank][1])).toBeLessThan(1e-4));
        // Probabilities: the near-certain zh case's exp(log-probability) was 1.0000025 before the cap.
        labels.forEach((entry) => expect(entry.score).toBeLessThanOrEqual(1));
      });
    });
  });

  describe('classify: tiny generated BERT (3 labels)', () => {
    it('reads labels from config.json and batches like one-by-one', async () => {
      const model = await loadModelBundle(context.generatedModel('tiny-bert-sequence-classification'), context.engine);
      const classifier = await createClassifier(model);
      expect(classifier.labels).toHaveLength(3);
      const texts = ['a short one', 'a somewhat longer sentence with more words in it', 'x'];
      const batched = await classify(classifier, texts, { topK: null });
      for (const [index, text] of texts.entries()) {
        const [single] = await classify(classifier, [text], { topK: null });
        expect(batched[index].map((entry) => entry.label)).toEqual(single.map((entry) => entry.label));
        single.forEach((entry, rank) => expect(Math.abs(batched[index][rank].score - entry.score)).toBeLessThan(1e-5));
      }
    });
  });
};
