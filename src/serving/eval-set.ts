import { readFile } from 'node:fs/promises';
import type { FunctionRequest } from './function-host.ts';

/**
 * A function's eval set, `functions/<name>.eval.jsonl`: one JSON object a line, `{"inputs", "parameters"?,
 * "expected"}`, and one line `{"threshold": 0.9}`: the share of cases a version must answer as expected
 * before it may take traffic.
 */
export interface EvalSet {
  threshold: number;
  cases: { inputs: unknown; parameters: Record<string, unknown>; expected: unknown }[];
}

/** A version's score on its function's eval set, against the threshold it must reach to serve. */
export interface EvalScore {
  score: number;
  threshold: number;
  passed: boolean;
  cases: number;
  failures: { index: number; expected: unknown; answered: unknown }[];
}

const MAX_EVAL_CASES = 10_000;

export async function readEvalSet(path: string): Promise<EvalSet | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let threshold: number | undefined;
  const cases: EvalSet['cases'] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${path}:${index + 1} is not JSON: ${(error as Error).message}`);
    }
    if ('threshold' in value) {
      if (typeof value.threshold !== 'number' || !(value.threshold >= 0 && value.threshold <= 1)) throw new Error(`${path}:${index + 1}: threshold is a number from 0 to 1`);
      threshold = value.threshold;
      return;
    }
    if (!('inputs' in value) || !('expected' in value)) throw new Error(`${path}:${index + 1}: a case has "inputs" and "expected"`);
    cases.push({ inputs: value.inputs, parameters: (value.parameters as Record<string, unknown>) ?? {}, expected: value.expected });
  });
  if (threshold === undefined) throw new Error(`${path} has no {"threshold": ...} line`);
  if (cases.length === 0 || cases.length > MAX_EVAL_CASES) throw new Error(`${path} needs 1 to ${MAX_EVAL_CASES} cases`);
  return { threshold, cases };
}

/** The label or text an answer leads with: classify's top label, a generation's or summary's text; else the answer itself. */
function leadingValue(answer: unknown): unknown {
  let value = answer;
  while (Array.isArray(value) && value.length > 0) value = value[0];
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return record.label ?? record.generated_text ?? record.summary_text ?? record.entity_group ?? answer;
  }
  return value;
}

/** A case passes when the answer equals `expected` (as JSON), or, for a string, when the answer leads with it. */
function matches(answer: unknown, expected: unknown): boolean {
  if (JSON.stringify(answer) === JSON.stringify(expected)) return true;
  return typeof expected === 'string' && leadingValue(answer) === expected;
}

/** Runs every case through `answer` (a host that is not serving yet) and scores the share answered as expected. */
export async function scoreEvalSet(set: EvalSet, answer: (request: FunctionRequest) => Promise<unknown>): Promise<EvalScore> {
  const failures: EvalScore['failures'] = [];
  for (const [index, item] of set.cases.entries()) {
    const answered = await answer({ inputs: item.inputs, parameters: item.parameters, stream: false }).catch((error: Error) => ({ error: error.message }));
    if (!matches(answered, item.expected)) failures.push({ index, expected: item.expected, answered });
  }
  const score = (set.cases.length - failures.length) / set.cases.length;
  return { score, threshold: set.threshold, passed: score >= set.threshold, cases: set.cases.length, failures: failures.slice(0, 10) };
}
