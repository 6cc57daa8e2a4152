/*
 * What each request and answer field means, for the API reference (/docs) and /openapi.json. Kept here, beside the
 * Node-only pages, rather than on the schemas that validate requests: a Workers bundle carries those schemas and
 * would carry every sentence too. A property of the generated document without its own description gets its
 * field's one from this table.
 */
const FIELD_DESCRIPTIONS: Record<string, string> = {
  inputs: 'The text, or a list of texts answered in order. A text of only whitespace is refused as an empty one.',
  parameters: 'Task parameters; a function\'s defaults apply to those left out. Unknown ones are refused (400).',
  // classify
  top_k: 'How many labels (classify) or candidate tokens (generate) to keep, best first; null or 0 keeps all.',
  function_to_apply: 'How logits become scores: softmax, sigmoid, exp (for log-probabilities, capped at 1) or none.',
  truncation: 'Cut a text over the token limit instead of refusing it (413).',
  label: 'The label, as the model\'s config.json names it.',
  score: 'The label\'s or entity\'s score, from 0 to 1.',
  // extract
  aggregation_strategy: 'How tokens group into entities: none (one per token), simple, first, average or max.',
  ignore_labels: 'Labels left out of the answer (default: O, outside any entity).',
  stride: 'Tokens two windows share when a text is longer than the model\'s window.',
  entity_group: 'The entity type (PER, ORG, LOC, MISC, ...).',
  entity: 'The token\'s label, with its B-/I- prefix.',
  index: 'The token\'s position in the tokenized text.',
  word: 'The text between start and end.',
  start: 'Offset of the first character in the input, in UTF-16 code units (JavaScript string indices).',
  end: 'Offset just past the last character, in UTF-16 code units; input.slice(start, end) is the word.',
  // summarize
  sentences: 'How many sentences an extractive summary keeps (default: the model\'s, 3), or the scored sentences.',
  ratio: 'The share of the document\'s sentences to keep instead of a count, over 0 up to 1.',
  return_scores: 'Also return each sentence with its salience score and which sentences were selected.',
  min_new_tokens: 'Fewest tokens a generative summary writes before it may end.',
  summary_text: 'The summary.',
  selected: 'Indexes of the sentences kept, in document order.',
  text: 'The text of this sentence or token.',
  // generate
  max_new_tokens: 'Most tokens to generate, up to the function\'s maxNewTokens.',
  do_sample: 'Sample the next token instead of taking the likeliest (greedy).',
  temperature: 'Sampling temperature; 0 is greedy, higher is more varied.',
  top_p: 'Nucleus sampling: keep the likeliest tokens whose probabilities add up to this.',
  repetition_penalty: 'Above 1, tokens already in the text become less likely.',
  frequency_penalty: 'OpenAI\'s: subtracted from a token\'s score once per time it was generated already (-2 to 2).',
  presence_penalty: 'OpenAI\'s: subtracted once from the score of every token generated already (-2 to 2).',
  top_n_tokens: 'Also give each token\'s log-probability and its step\'s n likeliest tokens (0-20; in stream events and details).',
  top_tokens: 'The likeliest tokens of each step, best first, with their log-probabilities (top_n_tokens).',
  tokens: 'Every generated token, with its log-probability (top_n_tokens).',
  prompt_tokens: 'Tokens of the prompt as the model saw it (chat template and special tokens included).',
  seed: 'Seed of the sampler, for a reproducible answer.',
  prompt_template: 'How the text becomes the prompt; {{input}} marks the text.',
  use_chat_template: 'Wrap the text in the model\'s chat template.',
  system_prompt: 'A system message for the chat template.',
  stop: 'Strings that end generation; the answer stops before them.',
  return_full_text: 'Include the prompt in generated_text (default false: only the continuation).',
  details: 'Also return why generation ended, how many tokens it made and the seed it used.',
  generated_text: 'The generated text.',
  finish_reason: 'Why generation ended: length, eos_token or stop_sequence.',
  generated_tokens: 'How many tokens were generated.',
  token: 'The token this event carries.',
  id: 'The token\'s id in the vocabulary.',
  logprob: 'The token\'s log-probability.',
  special: 'Whether the token is a special one (end of sequence, ...).',
  response_format: 'Constrain the answer to JSON (OpenAI\'s shape): text, json_object, or json_schema with a schema; an unsupported keyword is refused (400).',
  grammar: 'Constrain the answer to JSON (text-generation-inference\'s shape): {type: "json", value: schema}.',
  type: 'Which kind of format or grammar this is.',
  json_schema: 'The JSON Schema the answer must match, with an optional name and description.',
  schema: 'A JSON Schema; docs/architecture.md lists the keywords honoured.',
  strict: 'Accepted for OpenAI compatibility: the answer always matches the schema.',
  value: 'The JSON Schema the answer must match.',
  structured: 'With a grammar: whether the answer is complete and valid against the schema.',
  complete: 'The answer reached the end of its JSON value.',
  valid: 'The answer parses and matches the schema; false when it was cut by max_new_tokens.',
  // function description and probes
  name: 'The function\'s name, its file name in functions/.',
  route: 'The path it is served at.',
  task: 'The task it runs: classify, extract, summarize or generate.',
  description: 'What the function is for, as its file says.',
  model: 'The model it serves: name, variant.',
  engine: 'The ONNX Runtime engine running the model.',
  variant: 'The model variant served: fp32, int8, q4, fp16, ...',
  location: 'Where the model was read from, when that is a binding (r2:..., ASSETS:...); a folder on the server is not shown.',
  state: 'idle, loading, ready or failed.',
  failure: 'Why the model failed to load.',
  limits: 'Limits of one request: body bytes, inputs, tokens per input (the model\'s own length where it is smaller), new tokens.',
  status: 'ready, or not_ready while some model loads.',
  functions: 'Each function\'s state.',
  error: 'What went wrong.',
};

type JsonSchema = { [key: string]: unknown; properties?: Record<string, JsonSchema>; description?: string };

/** Gives every property of `schema`, at any depth, its field's description where it has none of its own. */
export function addFieldDescriptions(schema: unknown): void {
  if (Array.isArray(schema)) {
    for (const item of schema) addFieldDescriptions(item);
    return;
  }
  if (schema === null || typeof schema !== 'object') return;
  const object = schema as JsonSchema;
  if (object.properties && typeof object.properties === 'object') {
    for (const [name, property] of Object.entries(object.properties)) {
      if (property && typeof property === 'object' && !property.description && FIELD_DESCRIPTIONS[name]) property.description = FIELD_DESCRIPTIONS[name];
    }
  }
  for (const value of Object.values(object)) addFieldDescriptions(value);
}
