import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { serveProject, type RunningServer } from '../../src/cli/serve-project.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { generateEndpoint, type GenerateAnswer } from '../../src/endpoints/generate-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { interfacePages } from '../../src/http/playground/interface-pages.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction, type SchemaValue } from '../../src/spec/define-function.ts';
import { postJson, sendThrough, type SendRequest } from '../support/requests.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';

const projectRoot = join(import.meta.dirname, '../..');

const person = z.object({ name: z.string().check(z.minLength(1), z.maxLength(10)), happy: z.boolean() });
const story = defineFunction({ task: generateEndpoint, model: 'tinystories-260k', limits: { maxNewTokens: 64 }, schema: person });

/** The same function as a file in a functions folder, for `honnx serve` (its worker thread loads the file). */
const storyFile = `import * as z from 'zod/mini';
import { defineFunction, generateEndpoint } from '../src/index.ts';

export default defineFunction({
  task: generateEndpoint,
  model: 'tinystories-260k',
  limits: { maxNewTokens: 64 },
  schema: z.object({ name: z.string().check(z.minLength(1), z.maxLength(10)), happy: z.boolean() }),
});
`;

const { $schema: _dialect, ...personJsonSchema } = z.toJSONSchema(person) as Record<string, unknown>;

it("types the answer's value by the function's zod schema", () => {
  expectTypeOf<SchemaValue<typeof story>>().toEqualTypeOf<{ name: string; happy: boolean }>();
  expectTypeOf<SchemaValue<ReturnType<typeof defineFunction<typeof generateEndpoint>>>>().toBeUnknown();
  expectTypeOf<NonNullable<GenerateAnswer<SchemaValue<typeof story>>['structured']>['value']>().toEqualTypeOf<{ name: string; happy: boolean } | undefined>();
});

/** What every transport must show of a function with a schema: constrained, checked, typed answers; the schema. */
function describeSchemaFunction(start: () => Promise<{ send: SendRequest; stop(): Promise<void> }>) {
  let send: SendRequest;
  let stop: () => Promise<void>;
  beforeAll(async () => ({ send, stop } = await start()), 120_000);
  afterAll(() => stop?.());

  it('answers every request in the schema without being asked, with the parsed value', async () => {
    for (const seed of [1, 2, 3]) {
      const response = await send('/story', postJson({ inputs: 'Once upon a time', parameters: { max_new_tokens: 64, temperature: 1, seed, details: true } }));
      expect(response.status).toBe(200);
      const [answer] = (await response.json()) as GenerateAnswer<SchemaValue<typeof story>>[];
      if (answer.details!.finish_reason === 'length') {
        expect(answer.structured).toMatchObject({ complete: false, valid: false });
        expect(answer.structured!.value).toBeUndefined();
        continue;
      }
      expect(answer.structured).toMatchObject({ complete: true, valid: true });
      const parsed = JSON.parse(answer.generated_text);
      expect(answer.structured!.value).toEqual(parsed);
      expect(person.safeParse(parsed).success, answer.generated_text).toBe(true);
    }
  });

  it('refuses a request that names another grammar, naming the field', async () => {
    const response = await send('/story', postJson({ inputs: 'Once', parameters: { response_format: { type: 'json_object' } } }));
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toContain('parameters.response_format');
  });

  it('shows the schema in GET /story and in the OpenAPI document', async () => {
    const description = (await (await send('/story')).json()) as { schema: Record<string, unknown> };
    expect(description.schema).toMatchObject(personJsonSchema);
    const document = (await (await send('/openapi.json')).json()) as {
      paths: Record<string, { post: { responses: { 200: { content: { 'application/json': { schema: { $ref: string } } } } } } }>;
      components: { schemas: Record<string, { anyOf: { items: { properties: { structured: { properties: { value: unknown } } } } }[] }> };
    };
    const reference = document.paths['/story'].post.responses[200].content['application/json'].schema.$ref;
    expect(reference).toBe('#/components/schemas/story.Answer');
    // The answer to one prompt (anyOf[0]; anyOf[1] is the answer to a list of prompts, a list of those).
    expect(document.components.schemas['story.Answer'].anyOf[0].items.properties.structured.properties.value).toMatchObject(personJsonSchema);
  });
}

describe('a function with an answer schema, through the fetch handler', () => {
  describeSchemaFunction(async () => {
    const host = createFunctionHost('story', story.definition, () => loadModelBundle(mirrorModelFiles('tinystories-260k'), createNodeEngine({ threads: 1 })));
    await host.load();
    return { send: sendThrough(createHonnxApp({ functions: [{ fn: story, host }], pages: interfacePages }).fetch), stop: () => host.release() };
  });
});

describe('a function with an answer schema, served by honnx serve on a worker thread', () => {
  describeSchemaFunction(async () => {
    // Beside src/, as functions/ is, so that the file's '../src/index.ts' import resolves.
    const folder = await mkdtemp(join(projectRoot, '.functions-with-schema-'));
    await writeFile(join(folder, 'story.ts'), storyFile);
    let server: RunningServer;
    try {
      server = await serveProject({ projectRoot, functionsFolder: folder, host: '127.0.0.1', port: 0, threads: 1, workers: 1 });
      await server.ready;
    } catch (error) {
      await rm(folder, { recursive: true, force: true });
      throw error;
    }
    return {
      send: (path, init) => fetch(new URL(path, server.url), init),
      async stop() {
        await server.close();
        await rm(folder, { recursive: true, force: true });
      },
    };
  });
});
