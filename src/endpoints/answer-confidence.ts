import * as z from 'zod/mini';
import type { AnswerConfidence } from '../spec/task-endpoint.ts';

/** The request parameters of every generative task about its answers' confidence. */
export const confidenceShape = {
  /** Show each input's `confidence` (and `low_confidence`, where `min_confidence` is set) in the answer. */
  return_confidence: z.optional(z.boolean().check(z.describe("Show each input's confidence (and low_confidence where min_confidence is set) in the answer."))),
  /** An answer whose confidence is under this is flagged `low_confidence`: in the log line, and in the answer when shown. */
  min_confidence: z.optional(z.number().check(z.gte(0), z.lte(1), z.describe('In [0, 1]: an answer whose confidence is under it is flagged low_confidence, in the log line and in the answer when shown.'))),
};

/** What every generative answer carries when its confidence is shown. */
export interface ConfidenceFields {
  /** In [0, 1]: what the task computes (docs/architecture.md, "Confidence"). */
  confidence: number;
  /** Present where `min_confidence` is set: the confidence is under it. */
  low_confidence?: boolean;
}

/** The schema of one input's answer with its confidence shown: `fields` beside `confidence` and `low_confidence`. */
export const withConfidenceSchema = <Shape extends z.core.$ZodLooseShape>(fields: Shape) =>
  z.object({ ...fields, confidence: z.number().check(z.gte(0), z.lte(1)), low_confidence: z.optional(z.boolean()) });

/** `fields` with their confidence, flagged against the threshold when there is one. */
export function addConfidence<Fields extends object>(fields: Fields, confidence: number, minConfidence: number | undefined): Fields & ConfidenceFields {
  return minConfidence === undefined ? { ...fields, confidence } : { ...fields, confidence, low_confidence: confidence < minConfidence };
}

/** An answer without its confidence fields: its plain shape, as a request that did not ask to see them gets it. */
export function withoutConfidence<Item extends Partial<ConfidenceFields>>(item: Item): Omit<Item, keyof ConfidenceFields> {
  const { confidence: _confidence, low_confidence: _low, ...plain } = item;
  return plain;
}

/** The confidence of the answers that carry one (others are left out), and whether any is flagged low. */
export function collectConfidence(items: readonly Partial<ConfidenceFields>[]): AnswerConfidence {
  const confident = items.filter((item): item is ConfidenceFields => item.confidence !== undefined);
  return { confidences: confident.map((item) => item.confidence), lowConfidence: confident.some((item) => item.low_confidence === true) };
}

/**
 * The answer as the request asked to see it, from the answer with every input's confidence: `hide` turns one
 * input's answer into its plain shape unless `return_confidence` was asked. One input's answer or a list of them.
 */
export function separateConfidence<Item extends ConfidenceFields>(
  answer: Item | Item[],
  parameters: { return_confidence?: boolean },
  hide: (item: Item) => unknown,
): { answer: unknown; confidence: AnswerConfidence } {
  const confidence = collectConfidence(Array.isArray(answer) ? answer : [answer]);
  if (parameters.return_confidence) return { answer, confidence };
  return { answer: Array.isArray(answer) ? answer.map(hide) : hide(answer), confidence };
}
