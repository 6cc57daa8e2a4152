import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { embedEndpoint } from '../../src/endpoints/embed-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { createOpenApiDocument, type OpenApiDocument } from '../../src/http/openapi/create-openapi-document.ts';
import { createOpenAiDocumentParts } from '../../src/http/openapi/openai-paths.ts';
import { toRequestJsonSchema } from '../../src/http/openapi/request-schema.ts';
import { interfacePages } from '../../src/http/playground/interface-pages.ts';
import { chatCompletionRequestSchema, completionRequestSchema, embeddingRequestSchema } from '../../src/http/surfaces/openai/openai-requests.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { FEATURE_MODEL, writeFeatureModel } from '../embed/feature-model.ts';
import { createAppOf } from '../openai/openai-app.ts';
import { postJson, sendThrough, type SendRequest } from '../support/requests.ts';

type JsonSchema = Record<string, any>;
interface Operation {
  requestBody?: { content: Record<string, { schema: { $ref: string }; examples: Record<string, { value: Record<string, unknown> }> }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: { $ref?: string }; 'x-honnx-event-schema'?: { $ref: string } }> }>;
}

const V1_PATHS = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/models', '/v1/models/{id}', '/health', '/info'];

/** Every `properties` entry of a JSON value, with where it is. */
function listProperties(value: unknown, where: string, found: [string, JsonSchema][] = []): [string, JsonSchema][] {
  if (Array.isArray(value)) value.forEach((item, index) => listProperties(item, `${where}[${index}]`, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'properties' && child && typeof child === 'object') for (const [name, property] of Object.entries(child)) found.push([`${where}.${name}`, property as JsonSchema]);
      listProperties(child, `${where}.${key}`, found);
    }
  }
  return found;
}

function withoutDescriptions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDescriptions);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).filter(([key, value]) => !(key === 'description' && typeof value === 'string')).map(([key, value]) => [key, withoutDescriptions(value)]));
}

const dataEvents = (text: string) => text.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim());

describe('/v1 and TGI routes in /openapi.json', () => {
  let send: SendRequest;
  let document: OpenApiDocument;
  let release: () => Promise<unknown>;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const validators = new Map<string, ValidateFunction>();
  const components = () => document.components as { schemas: Record<string, JsonSchema>; responses: Record<string, JsonSchema> };
  const operation = (path: string, method: 'get' | 'post') => document.paths[path][method] as Operation;
  /** Checks a value against a schema of the document: a `$ref` into components.schemas, or one written in place. */
  function expectValid(schema: string | JsonSchema, value: unknown): void {
    const name = typeof schema === 'string' ? schema.replace('#/components/schemas/', '') : JSON.stringify(schema);
    if (!validators.has(name)) validators.set(name, ajv.compile(typeof schema === 'string' ? components().schemas[name] : schema));
    const validate = validators.get(name)!;
    expect(validate(value), `${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 600)}`).toBe(true);
  }
  /** Sends a request and checks its answer against what the document declares for its status and media type. */
  async function expectDeclared(path: string, method: 'get' | 'post', init: RequestInit, documentedPath = path): Promise<Response> {
    const response = await send(path, init);
    const declared = operation(documentedPath, method).responses[String(response.status)];
    expect(declared, `${path} answered ${response.status}, which the document does not declare`).toBeDefined();
    const resolved = declared.$ref ? components().responses[declared.$ref.split('/').pop()!] : declared;
    const text = await response.clone().text();
    if (response.headers.get('content-type')?.includes('text/event-stream')) {
      const events = dataEvents(text);
      expect(events.at(-1)).toBe('[DONE]');
      for (const event of events.slice(0, -1)) expectValid(resolved.content['text/event-stream']['x-honnx-event-schema'].$ref, JSON.parse(event));
    } else {
      const { schema } = resolved.content['application/json'];
      expectValid(schema.$ref ?? schema, JSON.parse(text));
    }
    return response;
  }

  beforeAll(async () => {
    const generate = await createAppOf(['generate']);
    const folder = await writeFeatureModel();
    const embedFn = defineFunction({ task: embedEndpoint, model: FEATURE_MODEL });
    const embedHost = createFunctionHost('embed', embedFn.definition, () => loadModelBundle(createFolderModelFiles(folder, FEATURE_MODEL), createNodeEngine({ threads: 1 })));
    await embedHost.load();
    const generateHost = generate.hosts[0];
    const app = createHonnxApp({
      functions: [
        { fn: defineFunction(generateHost.definition), host: generateHost },
        { fn: embedFn, host: embedHost },
      ],
      pages: interfacePages,
    });
    release = () => Promise.all([generate.release(), embedHost.release()]);
    send = sendThrough(app.fetch);
    document = (await (await send('/openapi.json')).json()) as OpenApiDocument;
  });
  afterAll(() => release?.());

  it('lists every /v1 route and TGI\'s /info and /health, and stays a valid OpenAPI 3.1 document (swagger-parser)', async () => {
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(V1_PATHS));
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
    for (const [name, schema] of Object.entries(components().schemas)) expect(ajv.validateSchema(schema), `${name}: ${ajv.errorsText(ajv.errors)}`).toBe(true);
    expect((document.tags as { name: string }[]).map((tag) => tag.name)).toContain('openai');
  });

  it('describes each /v1 request body with the very zod schema the route validates with', () => {
    const routes = [
      ['/v1/chat/completions', chatCompletionRequestSchema],
      ['/v1/completions', completionRequestSchema],
      ['/v1/embeddings', embeddingRequestSchema],
    ] as const;
    for (const [path, schema] of routes) {
      const name = operation(path, 'post').requestBody!.content['application/json'].schema.$ref.split('/').pop()!;
      expect(withoutDescriptions(components().schemas[name])).toEqual(withoutDescriptions(toRequestJsonSchema(schema)));
    }
  });

  it('describes every /v1 field from its own table, none left to the function routes\' descriptions', () => {
    const parts = createOpenAiDocumentParts([]);
    const properties = listProperties(parts, 'v1');
    expect(properties.length).toBeGreaterThan(100);
    expect(properties.filter(([, property]) => typeof property.description !== 'string' || property.description.trim() === '').map(([where]) => where)).toEqual([]);
    // A name that means two things gets the meaning of its place.
    const chat = parts.schemas['OpenAi.ChatCompletionRequest'] as JsonSchema;
    expect(chat.properties.model.description).toMatch(/function/);
    expect(chat.properties.response_format.description).toMatch(/json_schema/);
    expect(JSON.stringify(parts.schemas['OpenAi.ChatCompletion'])).not.toMatch(/eos_token/);
  });

  it('accepts every example request, and real answers (JSON and streamed) match the schemas declared for them', async () => {
    for (const path of ['/v1/chat/completions', '/v1/completions', '/v1/embeddings']) {
      for (const { value } of Object.values(operation(path, 'post').requestBody!.content['application/json'].examples)) {
        expectValid(operation(path, 'post').requestBody!.content['application/json'].schema.$ref, value);
        expect((await expectDeclared(path, 'post', postJson(value))).status).toBe(200);
      }
    }
    const chat = { model: 'generate', messages: [{ role: 'user', content: 'Tom had a' }], max_tokens: 6, temperature: 0 };
    const answers: [string, Record<string, unknown>][] = [
      ['/v1/chat/completions', { ...chat, logprobs: true, top_logprobs: 2 }],
      ['/v1/chat/completions', { ...chat, stream: true, stream_options: { include_usage: true }, logprobs: true, top_logprobs: 1 }],
      ['/v1/chat/completions', { ...chat, stream: true }],
      ['/v1/completions', { model: 'generate', prompt: ['Tom had a', 'Once upon'], max_tokens: 4, logprobs: 2, temperature: 0 }],
      ['/v1/completions', { model: 'generate', prompt: 'Tom had a', max_tokens: 4, echo: true, stream: true, stream_options: { include_usage: true } }],
      ['/v1/embeddings', { model: 'embed', input: 'one text', encoding_format: 'base64' }],
    ];
    for (const [path, body] of answers) expect((await expectDeclared(path, 'post', postJson(body))).status).toBe(200);
    expect((await expectDeclared('/v1/models', 'get', {})).status).toBe(200);
    expect((await expectDeclared('/v1/models/generate', 'get', {}, '/v1/models/{id}')).status).toBe(200);
    expect((await expectDeclared('/info', 'get', {})).status).toBe(200);
    expect((await expectDeclared('/health', 'get', {})).status).toBe(200);
  });

  it('declares the errors /v1 answers, each body in OpenAI\'s shape', async () => {
    const errors: [string, 'get' | 'post', RequestInit, number, string?][] = [
      ['/v1/chat/completions', 'post', postJson({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }), 404],
      ['/v1/chat/completions', 'post', postJson({ model: 'generate', messages: [], max_tokens: 2 }), 400],
      ['/v1/completions', 'post', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }, 415],
      ['/v1/embeddings', 'post', postJson({ model: 'embed', input: Array.from({ length: 65 }, () => 'hi') }), 413],
      ['/v1/models/nope', 'get', {}, 404, '/v1/models/{id}'],
    ];
    for (const [path, method, init, status, documented] of errors) expect((await expectDeclared(path, method, init, documented)).status).toBe(status);
  });

  it('leaves /v1 out of the document of an app without the OpenAI surface', () => {
    const bare = createOpenApiDocument([], { surfaces: ['hugging-face'] });
    expect(Object.keys(bare.paths).filter((path) => V1_PATHS.includes(path))).toEqual([]);
    expect(Object.keys((bare.components as { schemas: object }).schemas).filter((name) => name.startsWith('OpenAi.'))).toEqual([]);
  });
});
