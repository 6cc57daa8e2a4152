import { join } from 'node:path';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator, type TextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { InputError } from '../../src/tasks/input-error.ts';
import { compileJsonSchema } from '../../src/tasks/structured/json-constraint.ts';
import { tinyModelsFolder } from '../fixtures/tiny-models.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';
import { SCHEMA_SUITE, UNSUPPORTED_SCHEMAS } from './schema-suite.ts';

/** The reference check: ajv, which honours OpenAPI's nullable itself. */
function createAjvCheck() {
  const ajv = new Ajv({ strict: false, allowUnionTypes: true });
  return (schema: object, value: unknown) => {
    const { $schema: _dialect, ...rest } = schema as Record<string, unknown>;
    const validate = ajv.compile(rest);
    return validate(value) ? true : JSON.stringify(validate.errors);
  };
}

const models = [
  {
    name: 'tiny-gpt2-decoder (random weights, byte-level BPE)',
    files: () => createFolderModelFiles(join(tinyModelsFolder, 'tiny-gpt2-decoder'), 'tiny-gpt2-decoder'),
  },
  { name: 'tinystories-260k', files: () => mirrorModelFiles('tinystories-260k') },
];

describe.each(models)('constrained JSON on $name', ({ files }) => {
  let generator: TextGenerator;
  const check = createAjvCheck();
  beforeAll(async () => {
    generator = await createTextGenerator(await loadModelBundle(files(), createNodeEngine({ threads: 1 })));
  });
  afterAll(() => generator?.model.release());

  it('unconstrained, the model does not write JSON', async () => {
    const result = await generateText(generator, 'Answer in JSON:', { maxNewTokens: 40, seed: 1, temperature: 1 });
    expect(() => JSON.parse(result.generatedText)).toThrow();
  });

  it(`writes valid JSON that ajv accepts for each of the ${SCHEMA_SUITE.length} schemas, greedy and sampled`, async () => {
    let complete = 0;
    let runs = 0;
    for (const { name, schema } of SCHEMA_SUITE) {
      const grammar = compileJsonSchema(schema, generator.tokenizer);
      for (const options of [{ temperature: 0 }, { temperature: 1, seed: 7 }, { temperature: 1.2, topK: 50, seed: 8 }]) {
        const result = await generateText(generator, 'Answer in JSON:', { maxNewTokens: 160, ...options, grammar });
        runs++;
        const structured = result.structured!;
        if (result.finishReason === 'length' && !structured.complete) {
          // Out of tokens mid-value: said so, and never passed off as valid.
          expect(structured.valid, name).toBe(false);
          continue;
        }
        complete++;
        expect(result.finishReason, `${name}: ${result.generatedText}`).toBe('eos_token');
        expect(structured.valid, `${name}: ${result.generatedText} ${structured.error}`).toBe(true);
        const parsed = JSON.parse(result.generatedText);
        expect(parsed, name).toEqual(structured.value);
        expect(check(schema, parsed), `${name}: ${result.generatedText}`).toBe(true);
      }
    }
    // Most runs end within the budget; the rest are the 'length' case above.
    expect(complete / runs).toBeGreaterThan(0.8);
  }, 300_000);
});

describe('schema compilation', () => {
  let generator: TextGenerator;
  beforeAll(async () => {
    generator = await createTextGenerator(await loadModelBundle(models[0].files(), createNodeEngine({ threads: 1 })));
  });
  afterAll(() => generator?.model.release());

  it.each(UNSUPPORTED_SCHEMAS)('refuses $keyword before generating, naming it', ({ schema, keyword }) => {
    let thrown: unknown;
    try {
      compileJsonSchema(schema, generator.tokenizer);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).message).toContain(`"${keyword}"`);
  });

  it('compiles a schema once per tokenizer (cached by its JSON text)', () => {
    const first = compileJsonSchema({ type: 'object', properties: { a: { type: 'boolean' } } }, generator.tokenizer);
    const again = compileJsonSchema({ type: 'object', properties: { a: { type: 'boolean' } } }, generator.tokenizer);
    expect(again).toBe(first);
    expect(compileJsonSchema({ type: 'boolean' }, generator.tokenizer)).not.toBe(first);
  });

  it("ends 'length' mid-object with an answer that is not called valid", async () => {
    const grammar = compileJsonSchema(SCHEMA_SUITE.find((entry) => entry.name === 'invoice')!.schema, generator.tokenizer);
    const result = await generateText(generator, 'Answer in JSON:', { maxNewTokens: 8, temperature: 0, grammar });
    expect(result.finishReason).toBe('length');
    expect(result.structured).toMatchObject({ complete: false, valid: false });
    expect(result.generatedText, result.generatedText).toMatch(/^\{"num/);
  });
});
