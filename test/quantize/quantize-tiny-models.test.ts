import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle, requireTokenizer, type ModelVariant } from '../../src/models/model-bundle.ts';
import { createEncoderFeeds } from '../../src/tasks/batch-feeds.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { tinyModelPath, type TinyModelName } from '../fixtures/tiny-models.ts';
import { enginesUnderTest } from '../support/engines.ts';
import { makeQuantizedCopy, type QuantizedCopy } from './quantized-copies.ts';

const ENCODERS: TinyModelName[] = ['tiny-bert-sequence-classification', 'tiny-bert-token-classification', 'tiny-roberta-token-classification'];
const GENERATORS: TinyModelName[] = ['tiny-gpt2-decoder', 'tiny-t5-encoder-decoder'];
// Short enough for the generated encoders' 32 positions.
const SENTENCES = ['Angela met Emma in Paris', 'the cat sat', 'ok'];

const copies = new Map<TinyModelName, QuantizedCopy>();
/** q4 logits from the first engine, for the next engine to match. */
const q4LogitsByModel = new Map<TinyModelName, Float32Array>();

beforeAll(async () => {
  for (const name of [...ENCODERS, ...GENERATORS]) copies.set(name, await makeQuantizedCopy(tinyModelPath(name)));
});
afterAll(async () => {
  for (const copy of copies.values()) await copy.remove();
});

describe('quantizing the generated models', () => {
  it('rewrites weights inside the merged T5 decoder’s If branches, not only the main graph', () => {
    const decoder = copies.get('tiny-t5-encoder-decoder')!.reports.int8.find((report) => report.output.endsWith('decoder_model_merged_int8.onnx'))!;
    const inBranches = decoder.decisions.filter((decision) => decision.changed && decision.graph !== 'main');
    expect(inBranches.length).toBeGreaterThan(0);
    expect(inBranches.every((decision) => /\.(then|else)_branch$/.test(decision.graph))).toBe(true);
  });
});

describe.each(enginesUnderTest)('quantized generated models on $name', (engineUnderTest) => {
  let engine: Engine;
  beforeAll(() => {
    engine = engineUnderTest.create();
  });

  async function logits(folder: string, name: TinyModelName, variant: ModelVariant): Promise<Float32Array> {
    const model = await loadModelBundle(createFolderModelFiles(folder, name), engine, { variant });
    const tokenizer = requireTokenizer(model);
    const session = await model.openSession();
    const rows = SENTENCES.map((text) => tokenizer.encode(text).ids);
    expect(Math.max(...rows.map((row) => row.length))).toBeLessThanOrEqual(tokenizer.modelMaxLength);
    const outputs = await session.run(createEncoderFeeds(session, rows, tokenizer.specialIds.pad ?? 0), ['logits']);
    await session.release();
    return outputs.logits.data as Float32Array;
  }

  // Random weights make a poor accuracy test for 4 bits (the real models carry that); here int8 must stay
  // close to fp32, and q4 must give the same numbers on every engine.
  it.each(ENCODERS)('%s: int8 logits stay within 5 percent of fp32; q4 logits are finite and the same on every engine', async (name) => {
    const reference = await logits(tinyModelPath(name), name, 'fp32');
    const range = reference.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
    const int8 = await logits(copies.get(name)!.folder, name, 'int8');
    expect(int8).toHaveLength(reference.length);
    expect(int8.reduce((largest, value, index) => Math.max(largest, Math.abs(value - reference[index])), 0)).toBeLessThan(0.05 * range);
    const q4 = await logits(copies.get(name)!.folder, name, 'q4');
    expect(q4.every(Number.isFinite)).toBe(true);
    const previous = q4LogitsByModel.get(name);
    if (previous) expect(q4.reduce((largest, value, index) => Math.max(largest, Math.abs(value - previous[index])), 0)).toBeLessThan(1e-4 * range);
    else q4LogitsByModel.set(name, q4);
  });

  it.each(GENERATORS)('%s: int8 and q4 run the generation loop', async (name) => {
    for (const variant of ['int8', 'q4'] as const) {
      const generator = await createTextGenerator(await loadModelBundle(createFolderModelFiles(copies.get(name)!.folder, name), engine, { variant }));
      try {
        const result = await generateText(generator, name.includes('t5') ? 'summarize: the cat sat on the mat' : 'the cat', { maxNewTokens: 6 });
        expect(result.tokenIds.length).toBeGreaterThan(0);
        expect(result.tokenIds.length).toBeLessThanOrEqual(6);
      } finally {
        await generator.model.release();
      }
    }
  });
});
