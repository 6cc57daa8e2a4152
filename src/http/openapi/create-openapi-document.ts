import * as z from 'zod/mini';
import { readEffectiveLimits, type FunctionHost } from '../../serving/function-host.ts';
import { addFieldDescriptions } from './field-descriptions.ts';
import packageJson from '../../../package.json' with { type: 'json' };
import { answerSchemas, createGenerateAnswerSchema, errorBodySchema, generateStreamEventSchema } from './answer-schemas.ts';
import { errorResponses, INFERENCE_ERROR_STATUSES, toHeaderObjects } from './error-responses.ts';
import { createRequestBodySchema, toAnswerJsonSchema, toRequestJsonSchema } from './request-schema.ts';
import { listExamples } from './task-examples.ts';
import { createOpenAiDocumentParts, OPENAI_TAG } from './openai-paths.ts';

/** How the API document describes the functions' security. */
export interface OpenApiOptions {
  /** Whether a function's routes need `Authorization: Bearer <key>`; none do unless this says so. */
  requiresKey?: (host: FunctionHost) => boolean;
  /** The names of the API surfaces the app mounts (`ApiSurface.name`); the `/v1` routes are described where `openai` is one. Both when unset. */
  surfaces?: readonly string[];
}

/** An OpenAPI 3.1 document of the server's functions, as `GET /openapi.json` serves it. */
export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths: Record<string, Record<string, unknown>> };

/** Operation extension naming the function a `POST` runs, read by the playground. */
export const FUNCTION_EXTENSION = 'x-honnx-function';
/** Operation extension naming the function's task, which decides how the playground shows an answer. */
export const TASK_EXTENSION = 'x-honnx-task';
/** Media type extension of `text/event-stream` answers: the schema of each event's JSON `data`. */
export const EVENT_SCHEMA_EXTENSION = 'x-honnx-event-schema';

const schemaReference = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const responseReference = (status: number) => ({ $ref: `#/components/responses/${errorResponses[status].name}` });
/** Component names allow letters, digits, `.`, `-` and `_`. */
const toComponentName = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '_');
const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** What `GET /<function>` answers; task-specific fields (labels, kind, ...) come on top. */
const functionDescriptionSchema = z.looseObject({
  name: z.string(),
  route: z.string(),
  task: z.string(),
  description: z.optional(z.string()),
  model: z.looseObject({ name: z.string(), variant: z.string(), location: z.optional(z.string()) }),
  engine: z.optional(z.string()),
  state: z.enum(['idle', 'loading', 'ready', 'failed']),
  failure: z.optional(z.string()),
  parameters: z.record(z.string(), z.unknown()),
  schema: z.optional(z.record(z.string(), z.unknown()).check(z.describe("The function's answer schema (JSON Schema), where it declares one: answers are decoded under it."))),
  limits: z.record(z.string(), z.number()),
});

const readinessSchema = z.object({ status: z.enum(['ready', 'not_ready']), functions: z.record(z.string(), z.enum(['idle', 'loading', 'ready', 'failed'])) });

function describeLimits(limits: FunctionHost['limits'], task: string): string {
  const parts = [`body up to ${limits.maxBodyBytes} bytes`, `up to ${limits.maxInputs} input(s)`, `up to ${limits.maxInputTokens} tokens per input`];
  if (task === 'generate' || limits.maxNewTokens > 0) parts.push(`max_new_tokens up to ${limits.maxNewTokens}`);
  return parts.join(', ');
}

function describeFunctionOperation(host: FunctionHost): string {
  const { definition, endpoint } = host;
  const limits = readEffectiveLimits(host);
  const lines = [
    `Task \`${endpoint.task}\` on model \`${definition.model}\`${definition.variant ? ` (${definition.variant})` : ''}.`,
    `Limits: ${describeLimits(limits, endpoint.task)}.`,
  ];
  const defaults = definition.parameters ?? {};
  if (Object.keys(defaults).length > 0) lines.push(`Default parameters, which a request's own override: \`${JSON.stringify(defaults)}\`.`);
  return lines.join('\n\n');
}

/** The answer component of a function: its own where it declares an answer schema, else its task's. */
function readAnswerSchemaName(host: FunctionHost): string | undefined {
  if (host.definition.schema && host.endpoint.task === 'generate') return `${toComponentName(host.name)}.Answer`;
  return answerSchemas[host.endpoint.task] ? `${capitalize(host.endpoint.task)}Answer` : undefined;
}

function createAnswerContent(host: FunctionHost): Record<string, unknown> {
  const task = host.endpoint.task;
  const answerName = readAnswerSchemaName(host);
  // A task endpoint that decides its answer's schema (a generative classifier's label set) has it inline.
  const own = host.endpoint.describeAnswer?.(host.definition.schema);
  const schema = own ? toAnswerJsonSchema(own as z.ZodMiniType) : answerName ? schemaReference(answerName) : {};
  const json = { 'application/json': { schema } };
  if (task !== 'generate' && task !== 'summarize') return json;
  const streamed = task === 'summarize' ? 'a generative summarizer with `"stream": true`' : '`"stream": true`';
  return {
    ...json,
    'text/event-stream': {
      schema: {
        type: 'string',
        description:
          `With ${streamed}: server-sent events, each \`data\` a GenerateStreamEvent in JSON; the last one carries \`generated_text\` ` +
          '(and, with `return_confidence`, `confidence`). ' +
          'A failure after the stream began comes as an `error` event whose data is an error body.',
      },
      [EVENT_SCHEMA_EXTENSION]: schemaReference('GenerateStreamEvent'),
    },
  };
}

function createFunctionPath(host: FunctionHost, requestSchemaName: string, requiresKey: boolean): Record<string, unknown> {
  const { name, endpoint, definition, limits } = host;
  const security = requiresKey ? { security: [{ apiKey: [] }] } : {};
  const keyResponse = requiresKey ? { 401: responseReference(401) } : {};
  const errors = Object.fromEntries(INFERENCE_ERROR_STATUSES.map((status) => [status, responseReference(status)]));
  return {
    description: 'Other methods answer 405 (MethodNotAllowed) with `Allow: GET, POST`.',
    get: {
      operationId: `describe_${toComponentName(name)}`,
      summary: `What ${name} is: task, model, state, limits`,
      tags: [endpoint.task],
      ...security,
      responses: {
        200: { description: "The function's task, model, state and limits, and what the task reports of its model (labels, ...).", content: { 'application/json': { schema: schemaReference('FunctionDescription') } } },
        ...keyResponse,
      },
    },
    post: {
      operationId: `run_${toComponentName(name)}`,
      summary: definition.description ?? `${endpoint.task} with ${definition.model}`,
      description: describeFunctionOperation(host),
      tags: [endpoint.task],
      [FUNCTION_EXTENSION]: name,
      [TASK_EXTENSION]: endpoint.task,
      ...security,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: schemaReference(requestSchemaName), examples: listExamples(endpoint.task, limits.maxNewTokens, limits.maxInputs) } },
      },
      responses: { 200: { description: 'The answer.', content: createAnswerContent(host) }, ...keyResponse, ...errors },
    },
  };
}

function createErrorResponseComponents(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(errorResponses).map(([status, { name, description, headers }]) => [
      name,
      {
        description: `${status}: ${description}`,
        ...(headers ? { headers: toHeaderObjects(headers) } : {}),
        content: { 'application/json': { schema: schemaReference('Error') } },
      },
    ]),
  );
}

const htmlPage = (summary: string) => ({ get: { summary, responses: { 200: { description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } } } } });

/** The probes and the pages: every app that serves this document has them. */
function createServicePaths(): Record<string, Record<string, unknown>> {
  return {
    '/healthz': { get: { operationId: 'healthz', summary: 'Liveness', responses: { 200: { description: 'The process answers.', content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'ok' } } } } } } } } },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary: 'Readiness: 200 once every function is loaded and warmed, 503 before',
        responses: {
          200: { description: 'Every function is ready.', content: { 'application/json': { schema: schemaReference('Readiness') } } },
          503: { description: 'Some function is not ready; `functions` says which.', content: { 'application/json': { schema: schemaReference('Readiness') } } },
        },
      },
    },
    '/openapi.json': { get: { operationId: 'openapi', summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    '/docs': htmlPage('API reference rendered from this document'),
    '/': htmlPage('Playground: try each function in the browser'),
  };
}

/** The version of honnx serving the document: the API's version. */
const HONNX_VERSION: string = packageJson.version;

/**
 * The OpenAPI 3.1 document of an app serving `hosts`: each function's request body generated from the zod schemas
 * that validate its requests, its answers from the schemas in ./answer-schemas.ts, and the error statuses it can give.
 */
export function createOpenApiDocument(hosts: readonly FunctionHost[], options: OpenApiOptions = {}): OpenApiDocument {
  const schemas: Record<string, unknown> = {
    Error: toAnswerJsonSchema(errorBodySchema),
    FunctionDescription: toAnswerJsonSchema(functionDescriptionSchema),
    Readiness: toAnswerJsonSchema(readinessSchema),
    GenerateStreamEvent: toAnswerJsonSchema(generateStreamEventSchema),
  };
  for (const [task, schema] of Object.entries(answerSchemas)) schemas[`${capitalize(task)}Answer`] = toAnswerJsonSchema(schema);

  // Functions first: they are what a reader of the reference comes for.
  const paths: Record<string, Record<string, unknown>> = {};
  let anyKey = false;
  for (const host of hosts) {
    const requiresKey = options.requiresKey?.(host) ?? false;
    anyKey ||= requiresKey;
    const requestSchemaName = `${toComponentName(host.name)}.Request`;
    schemas[requestSchemaName] = toRequestJsonSchema(createRequestBodySchema(host.endpoint));
    paths[host.route] = createFunctionPath(host, requestSchemaName, requiresKey);
    const answerName = readAnswerSchemaName(host);
    if (host.definition.schema && answerName && !schemas[answerName]) schemas[answerName] = toAnswerJsonSchema(createGenerateAnswerSchema(host.definition.schema));
  }
  for (const [path, item] of Object.entries(createServicePaths())) paths[path] ??= item;
  const openAi = (options.surfaces ?? ['hugging-face', 'openai']).includes('openai') ? createOpenAiDocumentParts(hosts) : undefined;
  if (openAi) {
    for (const [path, item] of Object.entries(openAi.paths)) paths[path] ??= item;
    Object.assign(schemas, openAi.schemas);
  }
  addFieldDescriptions(schemas);
  addFieldDescriptions(paths);

  return {
    openapi: '3.1.0',
    // zod writes plain JSON Schema 2020-12, not the OpenAPI dialect with its extra keywords.
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'honnx API',
      version: HONNX_VERSION,
      description:
        'Task-specific inference endpoints. `POST /<function>` takes `{"inputs": ..., "parameters": {...}}` as the Hugging Face Inference API does. ' +
        'Errors are JSON `{"error": {"code", "message"}}`; a path with no function answers 404 (NotFound). ' +
        'The same functions also answer OpenAI\'s API under `/v1` (chat completions, completions, embeddings, models), with errors in OpenAI\'s shape, and text-generation-inference\'s `/info` and `/health`.',
    },
    tags: [...new Set([...hosts.map((host) => host.endpoint.task), ...(openAi ? [OPENAI_TAG] : [])])].map((task) => ({ name: task })),
    paths,
    components: {
      schemas,
      responses: { ...createErrorResponseComponents(), ...openAi?.responses },
      ...(anyKey ? { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key, sent as `Authorization: Bearer <key>`.' } } } : {}),
    },
  };
}
