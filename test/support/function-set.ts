import type { FunctionLimits } from '../../src/spec/function-limits.ts';
import type { HonnxFunction } from '../../src/spec/define-function.ts';

// The function set the HTTP, OpenAPI, playground, fuzz and workerd suites run on: whatever discovery finds (the same
// code the server uses), never a list written here. Runtime-neutral (workerd imports it too): no Node modules.

/** What the suites need to know of one discovered function, as plain data (it crosses into workerd). */
export interface TestFunction {
  name: string;
  task: string;
  model: string;
  /** The function's limits over its task's defaults: what a request may hold. */
  limits: Required<FunctionLimits>;
  /** Its file, where it was loaded from one (workerd imports it from there). */
  file?: string;
}

/** The discovered functions as the suites see them. */
export function describeTestFunctions(functions: readonly { name: string; fn: HonnxFunction; file?: string }[]): TestFunction[] {
  return functions.map(({ name, fn, file }) => ({
    name,
    task: fn.definition.task.task,
    model: fn.definition.model,
    limits: { ...fn.definition.task.defaultLimits, ...fn.definition.limits },
    ...(file === undefined ? {} : { file }),
  }));
}

/**
 * The functions this repository ships in functions/, with the model each is checked against. A check whose expected
 * answer comes from a model's own records (sanity.json, README) runs where the set serves that function as
 * shipped, under its name with its task and model; a set without it skips that check, and every function of the
 * set, shipped or not, gets the checks of `everyFunction` cases.
 */
const SHIPPED: Record<string, { task: string; model: string }> = {
  classify: { task: 'classify', model: 'sentiment-sst2-mini' },
  extract: { task: 'extract', model: 'ner-conll03-mini-cased' },
  generate: { task: 'generate', model: 'tinystories-260k' },
  langid: { task: 'classify', model: 'langid-fasttext-lid176' },
  summarize: { task: 'summarize', model: 'summarize-bbc-extractive' },
};

/** Whether `functions` serves the shipped function `name` as shipped (same task and model). */
export function servesShipped(functions: readonly TestFunction[], name: keyof typeof SHIPPED): boolean {
  const shipped = SHIPPED[name];
  return functions.some((fn) => fn.name === name && fn.task === shipped.task && fn.model === shipped.model);
}

/** A small request any function of `task` answers 200, whatever its model: a text, and few new tokens where it generates. */
export function sampleRequest(task: string): { inputs: string; parameters?: Record<string, unknown> } {
  if (task === 'generate') return { inputs: 'Once upon a time', parameters: { max_new_tokens: 2 } };
  if (task === 'summarize') return { inputs: 'A first sentence here. A second one there. A third one follows.' };
  return { inputs: 'I love this' };
}
