import * as z from 'zod/mini';
import {
  createExtractiveSummarizer,
  summarizeExtractively,
  type ExtractiveSummarizer,
} from '../tasks/summarize/extractive.ts';
import { textOrTextsSchema, toTextList } from './schemas.ts';
import type { TaskEndpoint } from './task-endpoint.ts';

const summarizeParametersSchema = z.strictObject({
  /** Sentences to keep. */
  sentences: z.optional(z.int().check(z.minimum(1))),
  /** Or the share of the document's sentences to keep, in (0, 1]. */
  ratio: z.optional(z.number().check(z.gt(0), z.lte(1))),
  /** Also return each sentence's score and which were kept. */
  return_scores: z.optional(z.boolean()),
});

export type SummarizeParameters = z.infer<typeof summarizeParametersSchema>;

export interface SummaryAnswer {
  summary_text: string;
  selected?: number[];
  sentences?: { text: string; score: number }[];
}

/**
 * Extractive summarization, answered in the Hugging Face shape `[{summary_text}]`. Each document is one
 * model run, as the model's sentence-scoring contract requires; a batch is answered document by document.
 */
export const summarizeEndpoint: TaskEndpoint<ExtractiveSummarizer, string | string[], SummarizeParameters, SummaryAnswer[]> = {
  task: 'summarize',
  inputsSchema: textOrTextsSchema,
  parametersSchema: summarizeParametersSchema,
  defaultLimits: { maxBodyBytes: 1 << 20, maxInputs: 8, maxInputTokens: 128, maxNewTokens: 0 },
  prepare: createExtractiveSummarizer,
  async warmUp(summarizer) {
    await summarizeExtractively(summarizer, 'A first sentence. A second one.');
  },
  describe: (summarizer) => ({
    kind: summarizer.kind,
    default_sentences: summarizer.contract.default_k ?? 3,
    summary_ratio: summarizer.contract.summary_ratio,
    execution_provider: summarizer.session.executionProvider,
  }),
  async answer(summarizer, inputs, { parameters }) {
    const answers: SummaryAnswer[] = [];
    for (const text of toTextList(inputs)) {
      const result = await summarizeExtractively(summarizer, text, { sentences: parameters.sentences, ratio: parameters.ratio });
      answers.push(
        parameters.return_scores
          ? {
              summary_text: result.summary,
              selected: result.selected,
              sentences: result.sentences.map((sentence, index) => ({ text: sentence, score: result.scores[index] })),
            }
          : { summary_text: result.summary },
      );
    }
    return answers;
  },
};
