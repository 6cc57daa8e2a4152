import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { createOpenApiDocument } from '../../src/http/openapi/create-openapi-document.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { discoverFunctions, type NamedFunction } from '../../src/runtime/node/discover-functions.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { postJson, sendThrough } from '../support/requests.ts';

const projectRoot = join(import.meta.dirname, '../..');

/** The README's SLM-backed example, read from the README itself, as a user copies it. */
async function readReadmeExample(): Promise<string> {
  const readme = await readFile(join(projectRoot, 'README.md'), 'utf8');
  const example = /```ts\n(\/\/ functions\/invoices\.ts\n[\s\S]*?)```/.exec(readme);
  if (!example) throw new Error('README.md has no functions/invoices.ts example');
  return example[1];
}

/**
 * The example names Qwen3-0.6B q4 from the hub, which this machine cannot download: it runs here on a model of the
 * same architecture, tokenizer, chat template and q4 layout, with random weights and one 64-wide layer (`honnx models
 * synth qwen3-0.6b --variant q4 --layers 1 --hidden 64`). Random weights write nonsense, so the checks are on what the
 * function guarantees whatever the weights: the schema always holds, the shapes, the confidence.
 */
describe('a user adds functions/invoices.ts exactly as the README shows', () => {
  let folder: string;
  let modelRoot: string;
  let invoices: NamedFunction;

  beforeAll(async () => {
    folder = await mkdtemp(join(projectRoot, '.functions-with-invoices-'));
    await writeFile(join(folder, 'invoices.ts'), await readReadmeExample());
    [invoices] = await discoverFunctions(folder);
    modelRoot = await mkdtemp(join(tmpdir(), 'honnx-readme-qwen3-'));
    await synthesizeModel({ preset: 'qwen3-0.6b', outputFolder: join(modelRoot, 'qwen3'), variant: 'q4', layers: 1, hiddenSize: 64 });
  }, 60_000);
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
    await rm(modelRoot, { recursive: true, force: true });
  });

  it('serves /invoices: every answer a value of its zod schema, the confidence opt-in, the schema in the API document', async () => {
    const { definition } = invoices.fn;
    expect(invoices.name).toBe('invoices');
    expect(definition).toMatchObject({ model: 'onnx-community/Qwen3-0.6B-ONNX', variant: 'q4' });
    const schema = definition.schema as unknown as { safeParse(value: unknown): { success: boolean } };
    const engine = createNodeEngine({ threads: 1 });
    const host = createFunctionHost('invoices', definition, () =>
      loadModelBundle(createFolderModelFiles(join(modelRoot, 'qwen3'), definition.model), engine, { variant: definition.variant }),
    );
    await host.load();
    const send = sendThrough(createHonnxApp({ functions: [{ fn: invoices.fn, host }] }).fetch);

    const one = await send('/invoices', postJson({ inputs: 'Invoice from Acme Ltd: 120.50 EUR, paid.' }));
    expect(one.status).toBe(200);
    const value = await one.json();
    expect(schema.safeParse(value).success).toBe(true);
    const list = (await (await send('/invoices', postJson({ inputs: ['Bill: 9 USD, due Friday.', 'Receipt, GBP 14, paid in cash.'] }))).json()) as unknown[];
    expect(list).toHaveLength(2);
    for (const item of list) expect(schema.safeParse(item).success).toBe(true);
    const shown = (await (await send('/invoices', postJson({ inputs: 'Invoice from Acme Ltd: 120.50 EUR, paid.', parameters: { return_confidence: true } }))).json()) as {
      value: unknown;
      confidence: number;
      low_confidence: boolean;
    };
    expect(shown.value).toEqual(value);
    expect(shown.confidence).toBeGreaterThan(0);
    expect(shown.confidence).toBeLessThanOrEqual(1);
    // The example's min_confidence: 0.5.
    expect(shown.low_confidence).toBe(shown.confidence < 0.5);

    const document = JSON.stringify(createOpenApiDocument([host]));
    expect(document).toContain('"enum":["EUR","USD","GBP"]');
    await host.release();
  });
});
