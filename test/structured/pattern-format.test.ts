import { join } from 'node:path';
import { Validator } from '@cfworker/json-schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator, type TextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { compileJsonSchema } from '../../src/tasks/structured/json-constraint.ts';
import { tinyModelsFolder } from '../fixtures/tiny-models.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';
import { PATTERN_SUITE } from './schema-suite.ts';

/** Every string in a value with the pattern that applies to it, for a check with RegExp itself. */
function collectPatterned(schema: Record<string, unknown>, value: unknown, out: [RegExp, string][]): void {
  if (typeof schema.pattern === 'string' && typeof value === 'string') out.push([new RegExp(schema.pattern, 'u'), value]);
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (properties && value && typeof value === 'object') for (const [name, child] of Object.entries(properties)) collectPatterned(child, (value as Record<string, unknown>)[name], out);
}

const models = [
  { name: 'tiny-gpt2-decoder (random weights, byte-level BPE)', files: () => createFolderModelFiles(join(tinyModelsFolder, 'tiny-gpt2-decoder'), 'tiny-gpt2-decoder') },
  { name: 'tinystories-260k', files: () => mirrorModelFiles('tinystories-260k') },
];

describe.each(models)('pattern and format on $name', ({ files }) => {
  let generator: TextGenerator;
  beforeAll(async () => {
    generator = await createTextGenerator(await loadModelBundle(files(), createNodeEngine({ threads: 1 })));
  });
  afterAll(() => generator?.model.release());

  it(`writes strings that match, checked by @cfworker/json-schema (formats too) and by RegExp, for ${PATTERN_SUITE.length} schemas`, async () => {
    let complete = 0;
    let runs = 0;
    for (const { name, schema } of PATTERN_SUITE) {
      const grammar = compileJsonSchema(schema, generator.tokenizer);
      const validator = new Validator(schema, '2020-12', false);
      for (const options of [{ temperature: 0 }, { temperature: 1, seed: 7 }, { temperature: 1.2, seed: 8 }, { temperature: 1, topK: 20, seed: 9 }]) {
        const result = await generateText(generator, 'Answer in JSON:', { maxNewTokens: 120, ...options, grammar });
        runs++;
        const structured = result.structured!;
        if (!structured.complete) {
          if (process.env.DEBUG_PATTERNS) console.log(name, result.finishReason, JSON.stringify(result.generatedText));
          expect(structured.valid, name).toBe(false);
          continue;
        }
        complete++;
        expect(structured.valid, `${name}: ${result.generatedText} ${structured.error}`).toBe(true);
        const value = JSON.parse(result.generatedText);
        const checked = validator.validate(value);
        expect(checked.valid, `${name}: ${result.generatedText} ${JSON.stringify(checked.errors)}`).toBe(true);
        const patterned: [RegExp, string][] = [];
        collectPatterned(schema, value, patterned);
        for (const [pattern, text] of patterned) expect(pattern.test(text), `${name}: ${JSON.stringify(text)} against ${pattern}`).toBe(true);
      }
    }
    // Random weights close an unanchored or long pattern only by chance; most runs end whole.
    expect(complete / runs).toBeGreaterThan(0.7);
  }, 300_000);
});
