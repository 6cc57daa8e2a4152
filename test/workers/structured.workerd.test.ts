import { describe, expect, it } from 'vitest';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { compileJsonSchema } from '../../src/tasks/structured/json-constraint.ts';
import { SCHEMA_SUITE } from '../structured/schema-suite.ts';
import { sharedModelFiles, workersEngine } from './workerd-context.ts';

// The same engine inside workerd: no WASM of its own, and a validator (@cfworker/json-schema) that generates no code.
describe('constrained JSON inside workerd (tinystories-260k, onnxruntime-web)', () => {
  it('writes answers that parse and that the runtime validator accepts, for every suite schema', async () => {
    const generator = await createTextGenerator(await loadModelBundle(sharedModelFiles('tinystories-260k'), workersEngine()));
    let complete = 0;
    for (const { name, schema } of SCHEMA_SUITE) {
      const grammar = compileJsonSchema(schema, generator.tokenizer);
      const result = await generateText(generator, 'Answer in JSON:', { maxNewTokens: 120, temperature: 1, seed: 11, grammar });
      if (!result.structured!.complete) {
        expect(result.finishReason, name).toBe('length');
        expect(result.structured!.valid, name).toBe(false);
        continue;
      }
      complete++;
      expect(result.structured, `${name}: ${result.generatedText}`).toMatchObject({ valid: true });
      expect(JSON.parse(result.generatedText), name).toEqual(result.structured!.value);
    }
    expect(complete / SCHEMA_SUITE.length).toBeGreaterThan(0.8);
    await generator.model.release();
  }, 120_000);
});
