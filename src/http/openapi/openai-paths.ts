import type * as z from 'zod/mini';
import type { FunctionHost } from '../../serving/function-host.ts';
import { chatCompletionRequestSchema, completionRequestSchema, embeddingRequestSchema } from '../surfaces/openai/openai-requests.ts';
import { errorResponses, toHeaderObjects } from './error-responses.ts';
import {
  chatCompletionChunkSchema,
  chatCompletionSchema,
  completionChunkSchema,
  completionSchema,
  embeddingListSchema,
  modelListSchema,
  modelSchema,
  openAiErrorSchema,
  tgiInfoSchema,
} from './openai-answer-schemas.ts';
import { addOpenAiFieldDescriptions } from './openai-field-descriptions.ts';
import { toAnswerJsonSchema, toRequestJsonSchema } from './request-schema.ts';

/** What the OpenAI surface adds to the document: its paths, their schemas and its error responses. */
export interface OpenAiDocumentParts {
  paths: Record<string, Record<string, unknown>>;
  schemas: Record<string, Record<string, unknown>>;
  responses: Record<string, Record<string, unknown>>;
}

/** Tag of the /v1 operations and TGI's routes. */
export const OPENAI_TAG = 'openai';

const schemaReference = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorReference = (status: number) => ({ $ref: `#/components/responses/OpenAi.${errorResponses[status].name}` });

/** Statuses a /v1 inference request can answer besides 200: a key, an unknown model (404), the function's limits. */
const OPENAI_ERROR_STATUSES = [400, 401, 404, 413, 415, 429, 500, 503, 504] as const;

const requestSchemas: Record<string, z.ZodMiniType> = {
  'OpenAi.ChatCompletionRequest': chatCompletionRequestSchema,
  'OpenAi.CompletionRequest': completionRequestSchema,
  'OpenAi.EmbeddingRequest': embeddingRequestSchema,
};

const answerSchemas: Record<string, z.ZodMiniType> = {
  'OpenAi.ChatCompletion': chatCompletionSchema,
  'OpenAi.ChatCompletionChunk': chatCompletionChunkSchema,
  'OpenAi.Completion': completionSchema,
  'OpenAi.CompletionChunk': completionChunkSchema,
  'OpenAi.EmbeddingList': embeddingListSchema,
  'OpenAi.Model': modelSchema,
  'OpenAi.ModelList': modelListSchema,
  'OpenAi.Error': openAiErrorSchema,
  'Tgi.Info': tgiInfoSchema,
};

const json = (name: string) => ({ 'application/json': { schema: schemaReference(name) } });

/** A JSON answer, and with `"stream": true` server-sent events whose `data` are `chunk`s, then `[DONE]`. */
const streamedAnswer = (answer: string, chunk: string) => ({
  ...json(answer),
  'text/event-stream': {
    schema: {
      type: 'string',
      description:
        `With \`"stream": true\`: server-sent events, each \`data\` an ${chunk} in JSON, the last one \`data: [DONE]\`. ` +
        'A failure after the stream began comes as an `error` event whose data is an OpenAI error body.',
    },
    'x-honnx-event-schema': schemaReference(chunk),
  },
});

const errorsOf = (statuses: readonly number[]) => Object.fromEntries(statuses.map((status) => [status, errorReference(status)]));

function postOperation(operationId: string, summary: string, description: string, request: string, answers: Record<string, unknown>, example: Record<string, unknown>) {
  return {
    post: {
      operationId,
      summary,
      description,
      tags: [OPENAI_TAG],
      requestBody: { required: true, content: { 'application/json': { schema: schemaReference(request), examples: { one: { summary: 'A request', value: example } } } } },
      responses: { 200: { description: 'The answer.', content: answers }, ...errorsOf(OPENAI_ERROR_STATUSES) },
    },
  };
}

const namesOf = (hosts: readonly FunctionHost[], task: string) => hosts.filter((host) => host.endpoint.task === task).map((host) => host.name);

/** `model` examples and the sentence naming what a route serves here. */
function describeServed(names: readonly string[], task: string): string {
  return names.length === 0 ? `No ${task} function is served here: every request gets 404 model_not_found.` : `\`model\` here: ${names.map((name) => `\`${name}\``).join(', ')}.`;
}

/**
 * The OpenAI surface's part of the document: request bodies generated from the zod schemas that validate them
 * (src/http/surfaces/openai/openai-requests.ts), answers from ./openai-answer-schemas.ts, every field described.
 */
export function createOpenAiDocumentParts(hosts: readonly FunctionHost[]): OpenAiDocumentParts {
  const generators = namesOf(hosts, 'generate');
  const embedders = namesOf(hosts, 'embed');
  const generator = generators[0] ?? 'generate';
  const schemas: Record<string, Record<string, unknown>> = {};
  for (const [name, schema] of Object.entries(requestSchemas)) schemas[name] = toRequestJsonSchema(schema);
  for (const [name, schema] of Object.entries(answerSchemas)) schemas[name] = toAnswerJsonSchema(schema);
  addOpenAiFieldDescriptions(schemas);

  const keys = 'The named function\'s API keys apply; a request naming no function here needs the server\'s.';
  const paths: Record<string, Record<string, unknown>> = {
    '/v1/chat/completions': postOperation(
      'openai_chat_completions',
      'OpenAI chat completion: a conversation answered by a generate function',
      `${describeServed(generators, 'generate')} The same queue, limits, metrics and logs as the function's own route. ${keys}`,
      'OpenAi.ChatCompletionRequest',
      streamedAnswer('OpenAi.ChatCompletion', 'OpenAi.ChatCompletionChunk'),
      { model: generator, messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 16, temperature: 0 },
    ),
    '/v1/completions': postOperation(
      'openai_completions',
      'OpenAI (legacy) completion: prompts continued by a generate function',
      `${describeServed(generators, 'generate')} Several prompts are queued as requests of their own, one choice each. ${keys}`,
      'OpenAi.CompletionRequest',
      streamedAnswer('OpenAi.Completion', 'OpenAi.CompletionChunk'),
      { model: generator, prompt: 'Tom had a', max_tokens: 16, temperature: 0 },
    ),
    '/v1/embeddings': postOperation(
      'openai_embeddings',
      'OpenAI embeddings: the vectors of texts from an embed function',
      `${describeServed(embedders, 'embed')} ${keys}`,
      'OpenAi.EmbeddingRequest',
      json('OpenAi.EmbeddingList'),
      { model: embedders[0] ?? 'embed', input: ['I love this', 'I hate this'], encoding_format: 'float' },
    ),
    '/v1/models': {
      get: {
        operationId: 'openai_models',
        summary: 'Every function that answers on /v1 (generate and embed), as OpenAI model objects',
        tags: [OPENAI_TAG],
        responses: { 200: { description: 'The list.', content: json('OpenAi.ModelList') }, ...errorsOf([401]) },
      },
    },
    '/v1/models/{id}': {
      get: {
        operationId: 'openai_model',
        summary: 'One of them, by function name or the model id it serves',
        tags: [OPENAI_TAG],
        parameters: [{ name: 'id', in: 'path', required: true, description: 'A function\'s name, or the model id it serves.', schema: { type: 'string' } }],
        responses: { 200: { description: 'The model.', content: json('OpenAi.Model') }, ...errorsOf([401, 404]) },
      },
    },
    '/health': {
      get: {
        operationId: 'tgi_health',
        summary: "text-generation-inference's health: 200 once every generate function is ready, 503 before",
        tags: [OPENAI_TAG],
        responses: {
          200: { description: 'Every generate function is ready.', content: { 'application/json': { schema: { type: 'object', additionalProperties: false, description: 'An empty object.' } } } },
          503: { $ref: '#/components/responses/ServiceUnavailable' },
        },
      },
    },
    '/info': {
      get: {
        operationId: 'tgi_info',
        summary: "text-generation-inference's info: the first generate function's model and limits, and every generate function",
        tags: [OPENAI_TAG],
        responses: {
          200: { description: 'What TGI-aware tools read.', content: json('Tgi.Info') },
          401: { $ref: '#/components/responses/Unauthorized' },
          404: { $ref: '#/components/responses/NotFound' },
        },
      },
    },
  };

  const responses = Object.fromEntries(
    OPENAI_ERROR_STATUSES.map((status) => {
      const { name, description, headers } = errorResponses[status];
      return [
        `OpenAi.${name}`,
        {
          description: `${status}: ${description} On /v1 the body has OpenAI's shape, the field at fault in \`param\`${status === 404 ? ' (an unknown `model` is model_not_found)' : ''}.`,
          ...(headers ? { headers: toHeaderObjects(headers) } : {}),
          content: json('OpenAi.Error'),
        },
      ];
    }),
  );
  return { paths, schemas, responses };
}
