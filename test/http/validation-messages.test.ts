import { describe, expect, it } from 'vitest';
import { classifyEndpoint } from '../../src/endpoints/classify-endpoint.ts';
import { describeIssues } from '../../src/http/describe-issues.ts';
import { extractEndpoint } from '../../src/endpoints/extract-endpoint.ts';
import { generateEndpoint } from '../../src/endpoints/generate-endpoint.ts';
import { summarizeEndpoint } from '../../src/endpoints/summarize-endpoint.ts';
import type { TaskEndpoint } from '../../src/spec/task-endpoint.ts';

type AnyEndpoint = TaskEndpoint<unknown, unknown, unknown>;

function messageOf(endpoint: AnyEndpoint, field: 'inputs' | 'parameters', value: unknown): string {
  const schema = field === 'inputs' ? endpoint.inputsSchema : endpoint.parametersSchema;
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error(`${JSON.stringify(value)} was accepted`);
  return describeIssues(parsed.error, schema, value, field);
}

const classify = classifyEndpoint as unknown as AnyEndpoint;

describe('a 400 names the field and what it allows, never only "Invalid input"', () => {
  it.each([
    [classify, { top_k: '3' }, 'parameters.top_k: must be null or an integer of at least 0, got "3"'],
    [classify, { top_k: -1 }, 'parameters.top_k: must be null or an integer of at least 0, got -1'],
    [classify, { top_k: 1.5 }, 'parameters.top_k: must be null or an integer of at least 0, got 1.5'],
    [classify, { function_to_apply: 'tanh' }, 'parameters.function_to_apply: must be one of "softmax", "sigmoid", "exp", "none", got "tanh"'],
    [classify, { truncation: 'yes' }, 'parameters.truncation: must be true or false, got "yes"'],
    [classify, { top_kk: 2 }, 'parameters: unknown parameter "top_kk"; allowed: top_k, function_to_apply, truncation'],
    [extractEndpoint, { ignore_labels: 'O' }, 'parameters.ignore_labels: must be a list of strings, got "O"'],
    [extractEndpoint, { ignore_labels: ['O', 3] }, 'parameters.ignore_labels[1]: must be a string, got 3'],
    [summarizeEndpoint, { ratio: 2 }, 'parameters.ratio: must be a number greater than 0 and at most 1, got 2'],
    [generateEndpoint, { max_new_tokens: 0 }, 'parameters.max_new_tokens: must be an integer of at least 1, got 0'],
    [generateEndpoint, { prompt_template: 'no marker' }, 'parameters.prompt_template: must contain {{input}}'],
    [generateEndpoint, { response_format: { type: 'xml' } }, 'parameters.response_format: must be an object with type "text" or an object with type "json_object" or an object with type "json_schema", got an object'],
    [generateEndpoint, { response_format: { type: 'json_schema', json_schema: { schema: 5 } } }, 'parameters.response_format.json_schema.schema: must be an object or true or false, got 5'],
  ].map(([endpoint, parameters, expected]) => [expected, endpoint, parameters] as [string, AnyEndpoint, unknown]))('%s', (expected, endpoint, parameters) => {
    expect(messageOf(endpoint, 'parameters', parameters)).toBe(expected);
  });

  it('names the input that is wrong, inside a batch too', () => {
    expect(messageOf(classify, 'inputs', 42)).toBe('inputs: must be a non-empty string or a non-empty list of non-empty strings, got 42');
    expect(messageOf(classify, 'inputs', ['fine', 7])).toBe('inputs[1]: must be a non-empty string, got 7');
    expect(messageOf(classify, 'inputs', [])).toMatch(/^inputs: must hold at least one text/);
  });

  it('does not say "Invalid input" for any parameter of any task', () => {
    for (const endpoint of [classifyEndpoint, extractEndpoint, summarizeEndpoint, generateEndpoint] as unknown as AnyEndpoint[]) {
      const shape = (endpoint.parametersSchema._zod.def as unknown as { shape: Record<string, unknown> }).shape;
      for (const name of Object.keys(shape)) {
        const message = messageOf(endpoint, 'parameters', { [name]: { not: 'valid' } });
        // An object parameter (a grammar) may be named down to the field inside it that is wrong.
        expect(message).toMatch(new RegExp(`^parameters\\.${name}(\\.[a-z_]+)?: must `));
        expect(message).not.toMatch(/Invalid input|a valid value/);
      }
    }
  });
});

describe('the messages do not depend on which zod locale the process has', () => {
  it('reads the same after classic zod installs its English messages', async () => {
    const before = messageOf(classify, 'parameters', { top_k: 'three', function_to_apply: 'tanh' });
    const zod = await import('zod');
    zod.config(zod.locales.en());
    expect(messageOf(classify, 'parameters', { top_k: 'three', function_to_apply: 'tanh' })).toBe(before);
    expect(messageOf(classify, 'inputs', ' ')).toBe('inputs: must not be only whitespace');
  });
});

describe('a text of only whitespace is refused as an empty one is', () => {
  it.each([classifyEndpoint, extractEndpoint, summarizeEndpoint] as unknown as AnyEndpoint[])('$task', (endpoint) => {
    expect(messageOf(endpoint, 'inputs', '')).toBe('inputs: must not be empty');
    expect(messageOf(endpoint, 'inputs', ' \n\t ')).toBe('inputs: must not be only whitespace');
    expect(messageOf(endpoint, 'inputs', ['fine', '\u00a0 '])).toBe('inputs[1]: must not be only whitespace');
    expect(endpoint.inputsSchema.safeParse(' a ').success).toBe(true);
  });
});
