import Ajv from 'ajv';
import * as z from 'zod/mini';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generativeExtractEndpoint } from '../../src/endpoints/generative-extract-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { createLogger } from '../../src/http/logging/logger.ts';
import { createOpenApiDocument } from '../../src/http/openapi/create-openapi-document.ts';
import type { ModelBundle } from '../../src/models/model-bundle.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction, type SchemaValue } from '../../src/spec/define-function.ts';
import { buildExtractPrompt, extractWithSchema } from '../../src/tasks/extract/extract-with-schema.ts';
import type { TextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { postJson, sendThrough } from '../support/requests.ts';
import { openSynthesizedChatModel, type SynthesizedChatModel } from '../support/synth-chat-model.ts';

const contact = z.object({
  name: z.string().check(z.maxLength(12)),
  age: z.int().check(z.minimum(0), z.maximum(120)),
  role: z.enum(['buyer', 'seller', 'other']),
  tags: z.array(z.string().check(z.maxLength(6))).check(z.maxLength(2)),
  member: z.boolean(),
});

const TEXTS = ['Ana, 34, bought two lamps.', 'Bob sells bikes; he is a member.', 'Nobody here.'];

describe('generative extract into a zod schema, on a random-weight Qwen3 (chat template, vocabulary 151,936)', () => {
  let synthesized: SynthesizedChatModel;
  let bundle: ModelBundle;
  let generator: TextGenerator;
  const ajvCheck = (() => {
    const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(contact, { io: 'output' }) as Record<string, unknown>;
    return new Ajv({ strict: false }).compile(jsonSchema);
  })();
  beforeAll(async () => {
    synthesized = await openSynthesizedChatModel();
    ({ bundle, generator } = synthesized);
  }, 60_000);
  afterAll(() => synthesized?.remove());

  it('always answers a value the schema accepts, with the confidence the lowest value-token probability', async () => {
    for (const text of TEXTS) {
      const extraction = await extractWithSchema(generator, text, contact, { maxNewTokens: 200 });
      expect(ajvCheck(extraction.value)).toBe(true);
      expect(contact.safeParse(extraction.value).success).toBe(true);
      expect(JSON.parse(extraction.generatedText)).toEqual(extraction.value);
      expect(extraction.tokenProbabilities.length).toBeGreaterThan(5);
      for (const probability of extraction.tokenProbabilities) {
        expect(probability).toBeGreaterThan(0);
        expect(probability).toBeLessThanOrEqual(1 + 1e-9);
      }
      expect(extraction.confidence).toBe(Math.min(...extraction.tokenProbabilities));
    }
  });

  it("puts the schema into the chat template's user turn", () => {
    const prompt = buildExtractPrompt(generator, 'Ana, 34', contact);
    expect(prompt.text).toContain('<|im_start|>user');
    expect(prompt.text).toContain('"maxLength":12');
    expect(prompt.text).toContain('Text: Ana, 34');
    expect(prompt.text).not.toContain('$schema');
  });

  it('answers POST with the typed value (one per text), the confidence opt-in and logged, and its schema in the OpenAPI document', async () => {
    const fn = defineFunction({ task: generativeExtractEndpoint, model: 'qwen3-tiny', schema: contact, parameters: { min_confidence: 1 } });
    // The answer's type is the schema's: this line does not compile if it is not.
    const typed: SchemaValue<typeof fn> = { name: 'x', age: 1, role: 'buyer', tags: [], member: true };
    expect(contact.safeParse(typed).success).toBe(true);
    const host = createFunctionHost('contacts', fn.definition, async () => bundle);
    await host.load();
    const lines: Record<string, unknown>[] = [];
    const app = createHonnxApp({ functions: [{ fn, host }], logger: createLogger({ level: 'info', write: (line) => void lines.push(JSON.parse(line)) }) });
    const send = sendThrough(app.fetch);

    const one = await send('/contacts', postJson({ inputs: TEXTS[0] }));
    expect(one.status).toBe(200);
    const value = (await one.json()) as SchemaValue<typeof fn>;
    expect(ajvCheck(value)).toBe(true);
    const many = (await (await send('/contacts', postJson({ inputs: TEXTS }))).json()) as SchemaValue<typeof fn>[];
    expect(many).toHaveLength(3);
    for (const item of many) expect(ajvCheck(item)).toBe(true);
    // Greedy: the same text gets the same value alone or in a list.
    expect(many[0]).toEqual(value);

    const shown = (await (await send('/contacts', postJson({ inputs: TEXTS[0], parameters: { return_confidence: true } }))).json()) as {
      value: unknown;
      confidence: number;
      low_confidence: boolean;
    };
    expect(shown.value).toEqual(value);
    const direct = await extractWithSchema(generator, TEXTS[0], contact, { maxNewTokens: 256 });
    expect(shown.confidence).toBeCloseTo(direct.confidence, 6);
    expect(shown.low_confidence).toBe(shown.confidence < 1);
    const logged = lines.filter((line) => line.function === 'contacts' && line.status === 200);
    expect(logged).toHaveLength(3);
    expect(logged[2].confidence).toBeCloseTo(direct.confidence, 4);

    const document = createOpenApiDocument([host]) as unknown as { paths: Record<string, { post: { responses: Record<string, { content: Record<string, { schema: unknown }> }> } }> };
    const answerSchema = JSON.stringify(document.paths['/contacts'].post.responses['200'].content['application/json'].schema);
    expect(answerSchema).toContain('"enum":["buyer","seller","other"]');
    expect(answerSchema).toContain('"confidence"');
    await host.release();
  });

  it('refuses an answer that cannot fit in max_new_tokens with 413, and max_new_tokens over the limit', async () => {
    const fn = defineFunction({ task: generativeExtractEndpoint, model: 'qwen3-tiny', schema: contact, limits: { maxNewTokens: 64 } });
    const host = createFunctionHost('contacts', fn.definition, async () => bundle);
    await host.load();
    const send = sendThrough(createHonnxApp({ functions: [{ fn, host }] }).fetch);
    const cut = await send('/contacts', postJson({ inputs: TEXTS[0], parameters: { max_new_tokens: 3 } }));
    expect(cut.status).toBe(413);
    expect(await cut.text()).toContain('max_new_tokens (3 tokens)');
    const over = await send('/contacts', postJson({ inputs: TEXTS[0], parameters: { max_new_tokens: 65 } }));
    expect(over.status).toBe(413);
    await host.release();
  });

  it('fails loudly for a function that declares no schema', async () => {
    const fn = defineFunction({ task: generativeExtractEndpoint, model: 'qwen3-tiny' });
    const host = createFunctionHost('schemaless', fn.definition, async () => bundle);
    await host.load();
    const response = await sendThrough(createHonnxApp({ functions: [{ fn, host }] }).fetch)('/schemaless', postJson({ inputs: 'x' }));
    expect(response.status).toBe(500);
    await host.release();
  });
});
