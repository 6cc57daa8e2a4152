import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { createHonnxApp } from '../../src/http/create-app.ts';
import type { FunctionHost } from '../../src/serving/function-host.ts';
import { createOpenApiDocument, type OpenApiDocument } from '../../src/http/openapi/create-openapi-document.ts';
import { postJson, sendThrough } from '../support/requests.ts';
import { serveDefaultFunctions, type ServedFunctions } from '../playground/serve-default-functions.ts';
import { sampleRequest, servesShipped } from '../support/function-set.ts';
import { discoverTestFunctions } from '../support/test-functions.ts';

interface MediaType {
  schema: { $ref?: string };
  examples?: Record<string, { value: Record<string, unknown> }>;
  'x-honnx-event-schema'?: { $ref: string };
}
interface Operation {
  operationId: string;
  'x-honnx-task'?: string;
  'x-honnx-function'?: string;
  security?: unknown[];
  requestBody?: { required: boolean; content: Record<string, MediaType> };
  responses: Record<string, { $ref?: string; content?: Record<string, MediaType> }>;
}
type JsonSchema = Record<string, any>;

// Whatever discovery finds in functions/ (or HONNX_TEST_FUNCTIONS): each function's name and task.
const { functions: discovered } = await discoverTestFunctions();
const DISCOVERED_FUNCTIONS = Object.fromEntries(discovered.map((fn) => [fn.name, fn.task]));
const shipped = (name: Parameters<typeof servesShipped>[1]) => servesShipped(discovered, name);

/** Schemas as zod writes them for requests, without the `$schema` a schema only carries at its root. */
function toJsonSchemaWithoutDialect(schema: z.ZodMiniType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
  return rest;
}

/** A schema without its prose: the reference adds each field's description to the validating schemas' JSON Schema. */
function withoutDescriptions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDescriptions);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).filter(([key, value]) => !(key === 'description' && typeof value === 'string')).map(([key, value]) => [key, withoutDescriptions(value)]));
}

describe('GET /openapi.json', () => {
  let served: ServedFunctions;
  let document: OpenApiDocument;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const validators = new Map<string, ValidateFunction>();

  const send = (path: string, init?: RequestInit) => fetch(`${served.origin}${path}`, init);
  const operation = (path: string, method: 'get' | 'post') => document.paths[path][method] as Operation;
  const components = () => document.components as { schemas: Record<string, JsonSchema>; responses: Record<string, { description: string }> };
  /** A validator for a `$ref` into `components.schemas`; each component is a complete JSON Schema 2020-12 of its own. */
  function validatorOf(reference: string): ValidateFunction {
    const name = reference.replace('#/components/schemas/', '');
    if (!validators.has(name)) validators.set(name, ajv.compile(components().schemas[name]));
    return validators.get(name)!;
  }
  function expectValid(reference: string, value: unknown): void {
    const validate = validatorOf(reference);
    expect(validate(value), `${reference}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`).toBe(true);
  }
  const requestSchemaOf = (path: string) => operation(path, 'post').requestBody!.content['application/json'].schema.$ref!;
  const host = (name: string) => served.hosts.find((candidate) => candidate.name === name)!;

  beforeAll(async () => {
    served = await serveDefaultFunctions();
    const response = await send('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    document = (await response.json()) as OpenApiDocument;
  });
  afterAll(() => served?.stop());

  it('is a valid OpenAPI 3.1 document (the OpenAPI Initiative schema, through swagger-parser), every schema valid JSON Schema 2020-12', async () => {
    expect(document.openapi).toBe('3.1.0');
    // validate() dereferences what it is given; the copy keeps the document as served.
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
    for (const [name, schema] of Object.entries(components().schemas)) {
      expect(ajv.validateSchema(schema), `${name}: ${ajv.errorsText(ajv.errors)}`).toBe(true);
      expect(() => validatorOf(name)).not.toThrow();
    }
  });

  it('has every function at its route, with what it is (GET) and how to run it (POST)', () => {
    const functions = Object.entries(document.paths).filter(([, item]) => (item.post as Operation | undefined)?.['x-honnx-task']);
    expect(Object.fromEntries(functions.map(([path, item]) => [path.slice(1), (item.post as Operation)['x-honnx-task']]))).toEqual(DISCOVERED_FUNCTIONS);
    for (const name of Object.keys(DISCOVERED_FUNCTIONS)) {
      expect(operation(`/${name}`, 'post')['x-honnx-function']).toBe(name);
      expect(operation(`/${name}`, 'get').responses['200']).toBeDefined();
      expect(operation(`/${name}`, 'post').requestBody!.required).toBe(true);
    }
    const operationIds = Object.values(document.paths).flatMap((item) => Object.values(item).filter((value): value is Operation => typeof value === 'object' && value !== null && 'operationId' in value).map((op) => op.operationId));
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it("describes each request body with the very schemas that validate the function's requests", () => {
    for (const name of Object.keys(DISCOVERED_FUNCTIONS)) {
      const { endpoint } = host(name);
      const schema = components().schemas[requestSchemaOf(`/${name}`).replace('#/components/schemas/', '')];
      expect(schema.type).toBe('object');
      expect(schema.required).toEqual(['inputs']);
      expect(schema.additionalProperties).toBe(false);
      expect(Object.keys(schema.properties).sort()).toEqual(['inputs', 'options', 'parameters', 'stream']);
      expect(withoutDescriptions(schema.properties.inputs)).toEqual(withoutDescriptions(toJsonSchemaWithoutDialect(endpoint.inputsSchema)));
      expect(withoutDescriptions(schema.properties.parameters)).toEqual(withoutDescriptions(toJsonSchemaWithoutDialect(endpoint.parametersSchema)));
    }
  });

  it.runIf(shipped('classify') && shipped('extract') && shipped('generate'))("says in the shipped functions' schemas what the README's API table says", () => {
    // Spot checks that the schemas say what the README's API table says.
    const classify = components().schemas['classify.Request'].properties.parameters;
    expect(classify.properties.function_to_apply.enum).toEqual(['softmax', 'sigmoid', 'exp', 'none']);
    expect(components().schemas['extract.Request'].properties.parameters.properties.aggregation_strategy.enum).toEqual(['none', 'simple', 'first', 'average', 'max']);
    // A prompt, or a list of prompts (answered one [{generated_text}] each).
    const prompt = { type: 'string', minLength: 1 };
    expect(withoutDescriptions(components().schemas['generate.Request'].properties.inputs)).toEqual({ anyOf: [prompt, { type: 'array', items: prompt, minItems: 1 }] });
  });

  it("accepts every example request, and each answer matches the answer schema it declares", async () => {
    let sent = 0;
    for (const name of Object.keys(DISCOVERED_FUNCTIONS)) {
      const post = operation(`/${name}`, 'post');
      const examples = post.requestBody!.content['application/json'].examples!;
      expect(Object.keys(examples).length).toBeGreaterThan(0);
      for (const [exampleName, { value }] of Object.entries(examples)) {
        expectValid(requestSchemaOf(`/${name}`), value);
        const response = await send(`/${name}`, postJson(value));
        expect(response.status, `${name} example ${exampleName}: ${await response.clone().text()}`).toBe(200);
        const answer = post.responses['200'].content!;
        if (value.stream) {
          expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
          const events = (await response.text()).split('\n').filter((line) => line.startsWith('data:'));
          expect(events.length).toBeGreaterThan(0);
          for (const line of events) expectValid(answer['text/event-stream']['x-honnx-event-schema']!.$ref, JSON.parse(line.slice(5)));
        } else {
          expectValid(answer['application/json'].schema.$ref!, await response.json());
        }
        sent += 1;
      }
    }
    expect(sent).toBeGreaterThanOrEqual(discovered.length);
  });

  it.runIf(shipped('classify') && shipped('extract') && shipped('summarize') && shipped('generate'))('declares answers that real answers match: batches, entity tokens, sentence scores, generation details', async () => {
    const checks: [string, Record<string, unknown>][] = [
      ['/classify', { inputs: ['I love this', 'I hate this'], parameters: { top_k: null, function_to_apply: 'sigmoid' } }],
      ['/extract', { inputs: ['Angela Merkel met Emmanuel Macron in Paris on Tuesday', 'Nothing here.'] }],
      ['/extract', { inputs: 'Angela Merkel met Emmanuel Macron in Paris on Tuesday', parameters: { aggregation_strategy: 'none' } }],
      ['/summarize', { inputs: 'One sentence here. Another one there. A third one follows. The last one ends it.', parameters: { sentences: 2, return_scores: true } }],
      ['/generate', { inputs: 'Once upon a time', parameters: { max_new_tokens: 4, details: true } }],
    ];
    for (const [path, body] of checks) {
      const response = await send(path, postJson(body));
      expect(response.status).toBe(200);
      expectValid(operation(path, 'post').responses['200'].content!['application/json'].schema.$ref!, await response.json());
    }
    const description = await send('/extract');
    expectValid(operation('/extract', 'get').responses['200'].content!['application/json'].schema.$ref!, await description.json());
    const readiness = await send('/readyz');
    expectValid('#/components/schemas/Readiness', await readiness.json());
  });

  it('declares answers that every function\'s real answers match, its GET description too', async () => {
    for (const fn of discovered) {
      const response = await send(`/${fn.name}`, postJson(sampleRequest(fn.task)));
      expect(response.status).toBe(200);
      expectValid(operation(`/${fn.name}`, 'post').responses['200'].content!['application/json'].schema.$ref!, await response.json());
      const description = await send(`/${fn.name}`);
      expectValid(operation(`/${fn.name}`, 'get').responses['200'].content!['application/json'].schema.$ref!, await description.json());
    }
  });

  it('refuses, as the server does, bodies the schema refuses, for every function', async () => {
    const refused = [
      { inputs: 42 },
      { inputs: '' },
      { inputs: [] },
      { inputs: 'hi', parameters: { top_kk: 2 } },
      { inputs: 'hi', parameters: { top_k: -1 } },
      { inputs: 'hi', input: 'typo' },
      { inputs: 'hi', stream: 'yes' },
      { parameters: {} },
    ];
    for (const { name } of discovered) {
      for (const body of refused) {
        const validate = validatorOf(requestSchemaOf(`/${name}`));
        expect(validate(body), `${name}: ${JSON.stringify(body)}`).toBe(false);
        const response = await send(`/${name}`, postJson(body));
        expect(response.status, `${name}: ${JSON.stringify(body)}`).toBe(400);
      }
    }
  });

  it.runIf(shipped('classify') && shipped('generate'))('declares each error status an inference request gets, every error body matching the Error schema', async () => {
    const post = operation('/classify', 'post');
    expect(Object.keys(post.responses).sort()).toEqual(['200', '400', '413', '415', '429', '500', '503', '504']);
    const responses = components().responses;
    for (const [status, name] of [
      [400, 'BadRequest'], [401, 'Unauthorized'], [404, 'NotFound'], [405, 'MethodNotAllowed'], [413, 'PayloadTooLarge'],
      [415, 'UnsupportedMediaType'], [429, 'TooManyRequests'], [500, 'InternalError'], [503, 'ServiceUnavailable'], [504, 'GatewayTimeout'],
    ] as const) {
      expect(responses[name].description.startsWith(`${status}:`)).toBe(true);
    }
    // Errors of an inference request are declared on its operation; 404 and 405 concern no operation and are
    // declared once, as reusable responses.
    const inferenceErrors: [string, RequestInit, number][] = [
      ['/classify', postJson('{"inputs": '), 400],
      ['/classify', postJson({ inputs: Array.from({ length: 65 }, () => 'hi') }), 413],
      ['/classify', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }, 415],
      ['/generate', postJson({ inputs: 'Once', parameters: { max_new_tokens: 100_000 } }), 413],
    ];
    for (const [path, init, status] of inferenceErrors) {
      const response = await send(path, init);
      expect(response.status).toBe(status);
      expect(operation(path, 'post').responses[String(status)]).toBeDefined();
      expectValid('#/components/schemas/Error', await response.json());
    }
    for (const [path, init, status] of [['/nowhere', postJson({ inputs: 'hi' }), 404], ['/classify', { method: 'DELETE' }, 405]] as const) {
      const response = await send(path, init);
      expect(response.status).toBe(status);
      expectValid('#/components/schemas/Error', await response.json());
    }
    expect(document.paths['/classify'].description).toMatch(/405/);
  });

  it.runIf(shipped('classify') && shipped('generate'))('marks functions that need an API key, with 401 and a bearer security scheme', () => {
    const keyed = createOpenApiDocument(served.hosts, { requiresKey: (candidate: FunctionHost) => candidate.name === 'generate' });
    const generate = keyed.paths['/generate'].post as Operation;
    expect(generate.security).toEqual([{ apiKey: [] }]);
    expect(generate.responses['401']).toEqual({ $ref: '#/components/responses/Unauthorized' });
    expect((keyed.paths['/generate'].get as Operation).responses['401']).toBeDefined();
    expect((keyed.paths['/classify'].post as Operation).security).toBeUndefined();
    expect((keyed.components as { securitySchemes: unknown }).securitySchemes).toEqual({
      apiKey: { type: 'http', scheme: 'bearer', description: expect.any(String) },
    });
    expect((document.components as Record<string, unknown>).securitySchemes).toBeUndefined();
  });

  it('serves the reference and the playground as HTML that loads nothing from elsewhere', async () => {
    for (const path of ['/docs', '/']) {
      const response = await send(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
      const html = await response.text();
      expect(html).toMatch(/^<!doctype html>/);
      // No scripts, styles or fonts from a CDN: the page must work on an air-gapped box.
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
      expect(html).not.toMatch(/@import|url\(/);
    }
  });

  it('is left out of an app not given the pages, as a per-function Workers bundle is', async () => {
    const bare = sendThrough(createHonnxApp({ functions: [] }).fetch);
    for (const path of ['/openapi.json', '/docs', '/']) expect((await bare(path)).status).toBe(404);
  });
});
