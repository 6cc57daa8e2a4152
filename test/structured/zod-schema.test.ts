import Ajv from 'ajv';
import * as z from 'zod/mini';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator, type TextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { compileZodSchema } from '../../src/tasks/structured/response-format.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';

describe('a zod schema as the grammar (z.toJSONSchema)', () => {
  let generator: TextGenerator;
  beforeAll(async () => {
    generator = await createTextGenerator(await loadModelBundle(mirrorModelFiles('tinystories-260k'), createNodeEngine({ threads: 1 })));
  });
  afterAll(() => generator?.model.release());

  it('generates answers that the zod schema itself parses', async () => {
    const schema = z.object({
      name: z.string().check(z.minLength(1), z.maxLength(10)),
      age: z.int().check(z.minimum(0), z.maximum(120)),
      tags: z.optional(z.array(z.enum(['kind', 'brave'])).check(z.maxLength(2))),
      pet: z.union([z.literal('dog'), z.null()]),
    });
    const grammar = compileZodSchema(schema, generator.tokenizer);
    const ajv = new Ajv({ strict: false });
    const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema) as Record<string, unknown>;
    const validate = ajv.compile(jsonSchema);
    let checked = 0;
    for (const seed of [1, 2, 3]) {
      const result = await generateText(generator, 'Once upon a time', { maxNewTokens: 80, temperature: 1, seed, grammar });
      if (!result.structured!.complete) continue;
      const value = JSON.parse(result.generatedText);
      expect(schema.safeParse(value).success, result.generatedText).toBe(true);
      expect(validate(value)).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });
});
