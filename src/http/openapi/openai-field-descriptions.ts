/*
 * What each field of the /v1 requests and answers (and TGI's /info) means. Keys are a property's path from its
 * schema's root (`messages.content`, `response_format.json_schema.name`: list items and alternatives add nothing to
 * a path), or its tail down to the bare name; the longest tail the table knows wins. Kept beside the Node-only pages as ./field-descriptions.ts is, so that no
 * Workers bundle carries the sentences.
 */
const OPENAI_FIELD_DESCRIPTIONS: Record<string, string> = {
  // requests
  model: 'Which function answers: its name (as GET /v1/models lists it), or the model id it serves; "tgi" or the server\'s URL picks the only one.',
  messages: 'The conversation so far, oldest first, rendered with the model\'s chat template (or one content per line where it has none).',
  'messages.role': 'Who speaks: system (or developer), user or assistant; tool and function roles are refused (400), as this server calls no tools.',
  'messages.content': 'The message\'s text: a string, or a list of parts of type "text", joined.',
  'messages.content.type': 'The part\'s kind; only "text" is accepted.',
  'messages.content.text': 'The text of this part.',
  'messages.name': 'The speaker\'s name: accepted, not shown to the model.',
  max_tokens: 'Most tokens to generate, up to the function\'s maxNewTokens (its default when unset).',
  max_completion_tokens: 'OpenAI\'s newer name for max_tokens; wins over it when both are sent.',
  temperature: 'Sampling temperature, 0 to 2; 0 is greedy. With neither this nor top_p, the model\'s generation_config.json decides.',
  top_p: 'Nucleus sampling: keep the likeliest tokens whose probabilities add up to this (over 0, up to 1).',
  seed: 'Seed of the sampler: the same request with the same seed gives the same answer.',
  stop: 'A string or up to 16 strings that end the answer; the answer stops before them (finish_reason "stop").',
  frequency_penalty: 'Subtracted from a token\'s score once per time it was generated already (-2 to 2).',
  presence_penalty: 'Subtracted once from the score of every token generated already (-2 to 2).',
  n: 'How many choices to make: only 1 is supported; more is refused (400).',
  stream: 'Answer as server-sent events, one chunk per token, then `data: [DONE]`.',
  stream_options: 'Options of a streamed answer.',
  'stream_options.include_usage': 'Send a last chunk with the token counts and no choices.',
  user: 'An end-user id: accepted and ignored.',
  logit_bias: 'Refused (400) unless empty: this server does not bias tokens.',
  top_k: 'vLLM / TGI extension: sample among only the k likeliest tokens (0 keeps all).',
  repetition_penalty: 'vLLM / TGI extension: above 1, tokens already in the text become less likely.',
  do_sample: 'Extension: sample (true) or decode greedily (false), whatever temperature says.',
  logprobs: 'Chat: true to report each token\'s log-probability. Completions: how many likeliest tokens to report per step (0 to 5).',
  top_logprobs: 'With "logprobs": true, how many likeliest tokens to report per step (0 to 20).',
  response_format: 'Constrain the answer: text (none), json_object (any JSON object) or json_schema (JSON matching a schema), by constrained decoding.',
  'response_format.type': 'The kind of format: text, json_object or json_schema.',
  'response_format.json_schema': 'The schema the answer must match, with an optional name and description.',
  'response_format.json_schema.name': 'A name for the schema: accepted, not used.',
  'response_format.json_schema.description': 'What the schema is for: accepted, not used.',
  'response_format.json_schema.schema': 'A JSON Schema; docs/architecture.md lists the keywords honoured, any other is refused (400) by name.',
  'response_format.json_schema.strict': 'Accepted for compatibility: the answer always matches the schema.',
  tools: 'Refused (400) unless empty: this server calls no tools.',
  tool_choice: 'Accepted only as "none": this server calls no tools.',
  parallel_tool_calls: 'Accepted and ignored: this server calls no tools.',
  store: 'Accepted and ignored: nothing is stored.',
  metadata: 'Accepted and ignored.',
  prompt: 'The text to continue, or a list of texts (up to 16, one choice each); token-id prompts are refused (400).',
  echo: 'Put the prompt in front of the continuation in each choice\'s text.',
  suffix: 'Refused (400) unless empty: fill-in-the-middle is not supported.',
  best_of: 'Only 1 is supported.',
  input: 'The text to embed, or a list of texts (up to the function\'s maxInputs); token-id inputs are refused (400).',
  encoding_format: 'float: each vector as a list of numbers; base64: its float32 bytes, little-endian, in base64.',
  dimensions: 'Keep only the first n dimensions of each vector, normalized again.',
  // answers
  id: 'The answer\'s id (chatcmpl-..., cmpl-...) or, for a model, the function\'s name.',
  object: 'What kind of object this is, as OpenAI names it.',
  created: 'When it was made, in Unix seconds (for a model: when the server started).',
  choices: 'The answers: one per prompt for completions, one for chat (an empty list on the usage chunk of a stream).',
  index: 'The position of this choice or vector in its list.',
  message: 'The assistant\'s message.',
  'choices.message.role': 'Always assistant.',
  delta: 'What this chunk adds to the message.',
  finish_reason: 'Why the answer ended: stop (end of sequence, a stop string or a complete JSON value) or length (max_tokens); null until the last chunk.',
  usage: 'Tokens of the prompt (chat template included) and of the answer.',
  prompt_tokens: 'Tokens of the prompt or inputs, as the model saw them.',
  completion_tokens: 'Tokens generated.',
  total_tokens: 'Prompt and generated tokens together.',
  token: 'The token\'s text.',
  logprob: 'The token\'s log-probability, before penalties and sampling.',
  bytes: 'The token\'s text as UTF-8 bytes.',
  data: 'The list\'s entries.',
  embedding: 'The vector: numbers, or a base64 string with encoding_format "base64".',
  owned_by: 'Always honnx.',
  honnx: 'What honnx knows of the function: task, model, variant, state.',
  'honnx.task': 'The function\'s task: generate (chat and completions) or embed (embeddings).',
  'honnx.model': 'The model the function serves.',
  'honnx.variant': 'The model variant served: fp32, int8, q4, fp16, ...',
  'honnx.state': 'idle, loading, ready or failed.',
  'honnx.version': 'The model versions serving, where the server can swap them (honnx serve on Node).',
  'honnx.version.active': 'The version new requests go to: a digest, a hub commit, or "local" for the locked copy.',
  'honnx.version.previous': 'The version a rollback returns to.',
  'honnx.version.canary': 'A running canary: its version and the percent of requests it takes.',
  'honnx.version.canary.version': 'The canary\'s version.',
  'honnx.version.canary.percent': 'The share of requests the canary takes, above 0 and at most 100.',
  error: 'What went wrong.',
  // TGI's /info
  model_id: 'The model of the first generate function.',
  model_sha: 'Always null: models are verified by the sha256 of each file in the lock instead.',
  model_dtype: 'The model variant served (fp32, int8, q4, ...).',
  model_device_type: 'Always cpu.',
  model_pipeline_tag: 'Always text-generation.',
  max_concurrent_requests: 'Requests that may wait in the function\'s queue.',
  max_best_of: 'Always 1.',
  max_stop_sequences: 'Most stop strings a request may send.',
  max_input_tokens: 'Most prompt tokens a request may send.',
  max_total_tokens: 'Most prompt and generated tokens together.',
  max_client_batch_size: 'Always 1: one prompt per request on TGI\'s routes.',
  validation_workers: 'Always 1.',
  router: 'Always honnx.',
  version: 'The version of honnx serving.',
  honnx_functions: 'Every generate function: name, route, model and state.',
  'honnx_functions.name': 'The function\'s name.',
  'honnx_functions.route': 'Its Hugging Face route.',
  'honnx_functions.model': 'The model it serves.',
  'honnx_functions.state': 'idle, loading, ready or failed.',
};

/** The description of the longest tail of `where` the table knows: `data.honnx.model` finds `honnx.model`. */
function findDescription(where: string): string | undefined {
  const parts = where.split('.');
  for (let first = 0; first < parts.length; first++) {
    const description = OPENAI_FIELD_DESCRIPTIONS[parts.slice(first).join('.')];
    if (description) return description;
  }
  return undefined;
}

type JsonSchema = { [key: string]: unknown; properties?: Record<string, JsonSchema>; description?: string };

/** Gives every property of a /v1 schema, at any depth, its description by path or name, where it has none. */
export function addOpenAiFieldDescriptions(schema: unknown, path = ''): void {
  if (Array.isArray(schema)) {
    for (const item of schema) addOpenAiFieldDescriptions(item, path);
    return;
  }
  if (schema === null || typeof schema !== 'object') return;
  const object = schema as JsonSchema;
  for (const [key, value] of Object.entries(object)) {
    if (key !== 'properties' || !value || typeof value !== 'object') {
      addOpenAiFieldDescriptions(value, path);
      continue;
    }
    for (const [name, property] of Object.entries(value as Record<string, JsonSchema>)) {
      const where = path ? `${path}.${name}` : name;
      const description = findDescription(where);
      if (property && typeof property === 'object' && !property.description && description) property.description = description;
      addOpenAiFieldDescriptions(property, where);
    }
  }
}
