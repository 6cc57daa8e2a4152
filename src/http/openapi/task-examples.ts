/** An example request of the OpenAPI document: the docs show it, the playground starts from the first one. */
export interface RequestExample {
  summary: string;
  value: { inputs: string | string[]; parameters?: Record<string, unknown>; stream?: boolean };
}

/**
 * Example requests of the built-in tasks, by task name. Each must be accepted by any function of its task whatever
 * its model (the OpenAPI test sends every one), so they only use parameters every model of the task takes;
 * `max_new_tokens` is lowered to a function's own ceiling where that is smaller.
 */
export const taskExamples: Record<string, Record<string, RequestExample>> = {
  classify: {
    one: { summary: 'One text', value: { inputs: 'I love this' } },
    batch: { summary: 'A batch, best label only', value: { inputs: ['I love this', 'I hate this'], parameters: { top_k: 1 } } },
  },
  extract: {
    one: { summary: 'One text', value: { inputs: 'Angela Merkel met Emmanuel Macron in Paris on Tuesday' } },
    tokens: {
      summary: 'Each token with its own label',
      value: { inputs: 'Angela Merkel met Emmanuel Macron in Paris on Tuesday', parameters: { aggregation_strategy: 'none' } },
    },
  },
  summarize: {
    one: {
      summary: 'One article',
      value: {
        inputs:
          'The city council approved a new budget on Monday. It raises spending on schools and roads. ' +
          'Taxes stay the same for most households. The mayor said the plan balances growth and care. ' +
          'Opposition members asked for more money for parks.',
      },
    },
  },
  generate: {
    one: { summary: 'A continuation', value: { inputs: 'Once upon a time', parameters: { max_new_tokens: 32 } } },
    stream: { summary: 'Streamed as server-sent events', value: { inputs: 'Once upon a time', parameters: { max_new_tokens: 32 }, stream: true } },
    batch: { summary: 'A list of prompts, one [{generated_text}] each (not streamed)', value: { inputs: ['Once upon a time', 'Tom had a'], parameters: { max_new_tokens: 16 } } },
  },
};

/**
 * A task's examples for one function: the same requests, within the function's `max_new_tokens` ceiling; an
 * example with more inputs than the function takes (`maxInputs`) is left out.
 */
export function listExamples(task: string, maxNewTokens: number, maxInputs = Infinity): Record<string, RequestExample> {
  const examples = Object.entries(taskExamples[task] ?? {}).filter(([, example]) => !Array.isArray(example.value.inputs) || example.value.inputs.length <= maxInputs);
  return Object.fromEntries(
    examples.map(([name, example]) => {
      const requested = example.value.parameters?.max_new_tokens;
      if (typeof requested !== 'number' || requested <= maxNewTokens) return [name, example];
      return [name, { ...example, value: { ...example.value, parameters: { ...example.value.parameters, max_new_tokens: maxNewTokens } } }];
    }),
  );
}
