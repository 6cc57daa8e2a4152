import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { InputError } from '../../src/tasks/input-error.ts';
import { createExtractiveSummarizer, summarizeExtractively, type ExtractiveSummarizer } from '../../src/tasks/summarize/extractive.ts';
import type { ConformanceCases } from './conformance.ts';

interface SanityCase {
  source: string;
  num_sentences: number;
  salience_sigmoid: number[];
  selected_k3: number[];
  summary_k3: string;
  k_ratio: number;
  selected_kratio: number[];
}

/** The sanity cases name their article as "...: business/026.txt"; the body is that file minus its headline line. */
function articlePath(source: string): string | undefined {
  const match = /(\w+\/\d+\.txt)/.exec(source);
  return match?.[1];
}

export const summarizeCases: ConformanceCases = (context) => {
  describe('summarize: summarize-bbc-extractive (one run per document)', () => {
    let summarizer: ExtractiveSummarizer;
    let cases: SanityCase[];
    beforeAll(async () => {
      summarizer = await createExtractiveSummarizer(await loadModelBundle(context.sharedModel('summarize-bbc-extractive'), context.engine));
      cases = JSON.parse(await context.readSharedText('summarize-bbc-extractive/sanity.json')).cases;
    });

    it('picks the sentences sanity.json records for held-out BBC articles, with the same scores', async () => {
      const articles = cases.filter((entry) => articlePath(entry.source));
      expect(articles.length).toBeGreaterThanOrEqual(2);
      for (const entry of articles) {
        const raw = await context.readSharedText(`datasets/bbc-news-summary/BBC News Summary/News Articles/${articlePath(entry.source)}`);
        const body = raw.replace(/\r/g, '').split('\n').slice(1).join('\n');
        const result = await summarizeExtractively(summarizer, body, { sentences: 3 });
        expect(result.sentences).toHaveLength(entry.num_sentences);
        expect(result.selected).toEqual(entry.selected_k3);
        expect(result.summary).toBe(entry.summary_k3);
        result.scores.forEach((score, index) => expect(score).toBeCloseTo(entry.salience_sigmoid[index], 2));
        const byRatio = await summarizeExtractively(summarizer, body, { ratio: 0.4226 });
        expect(byRatio.selected).toHaveLength(entry.k_ratio);
        expect(byRatio.selected).toEqual(entry.selected_kratio);
      }
    });

    it('summarizes a one-sentence document and refuses an empty one', async () => {
      const single = await summarizeExtractively(summarizer, 'Only one sentence here.');
      expect(single.selected).toEqual([0]);
      expect(single.summary).toBe('Only one sentence here.');
      await expect(summarizeExtractively(summarizer, ' \n\n ')).rejects.toSatisfy((error) => error instanceof InputError && error.reason === 'empty');
    });
  });
};

