import type { BatchedAnswers, BatchedRequest } from '../spec/task-endpoint.ts';
import { InputError } from '../tasks/input-error.ts';

/** A task call on a list of texts that returns one result per text (classify, extractEntities). */
export type TextListTask<Parameters, Result> = (texts: string[], parameters: Parameters) => Promise<Result[]>;

/**
 * Batches text requests for tasks that already take a list of texts: requests with the same parameters have their
 * texts joined into one call (one model run, or a few for long texts), and the results are split back. A bad text
 * (too long, empty) makes the joined call throw; its group is then answered request by request, so that only the
 * request holding it fails. `shape` turns a request's results back into its answer (one text or a list).
 */
export async function answerTextBatches<Parameters, Result, Answer>(
  requests: readonly BatchedRequest<string | string[], Parameters>[],
  run: TextListTask<Parameters, Result>,
  shape: (results: Result[], inputs: string | string[]) => Answer,
): Promise<BatchedAnswers<Answer>> {
  const answers: BatchedAnswers<Answer> = new Array(requests.length);
  const groups = new Map<string, number[]>();
  requests.forEach((request, index) => {
    const key = JSON.stringify(request.parameters);
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  });
  const answerAlone = async (index: number) => {
    const { inputs, parameters } = requests[index];
    try {
      answers[index] = { ok: true, value: shape(await run(toTexts(inputs), parameters), inputs) };
    } catch (error) {
      answers[index] = { ok: false, error };
    }
  };
  for (const indices of groups.values()) {
    if (indices.length === 1) {
      await answerAlone(indices[0]);
      continue;
    }
    const texts = indices.flatMap((index) => toTexts(requests[index].inputs));
    let results: Result[];
    try {
      results = await run(texts, requests[indices[0]].parameters);
    } catch (error) {
      if (!(error instanceof InputError)) {
        for (const index of indices) answers[index] = { ok: false, error };
        continue;
      }
      for (const index of indices) await answerAlone(index);
      continue;
    }
    let next = 0;
    for (const index of indices) {
      const count = toTexts(requests[index].inputs).length;
      answers[index] = { ok: true, value: shape(results.slice(next, next + count), requests[index].inputs) };
      next += count;
    }
  }
  return answers;
}

const toTexts = (inputs: string | string[]): string[] => (typeof inputs === 'string' ? [inputs] : inputs);
