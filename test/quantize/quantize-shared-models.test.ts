import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle, type ModelVariant } from '../../src/models/model-bundle.ts';
import { classify, createClassifier } from '../../src/tasks/classify/classify.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { enginesUnderTest } from '../support/engines.ts';
import { datasetPath, mirrorFolder } from '../support/shared-models.ts';
import { parseGreedySamples, type GreedySample } from '../support/tinystories-samples.ts';
import { ensureQuantizedModels, QUANTIZED_MODEL_NAMES } from './quantized-cache.ts';
import { makeQuantizedCopy, type QuantizedCopy } from './quantized-copies.ts';

const TEXT_COUNT = 240;


/** The first held-out SST-2 test sentences (never seen in training), and for language id the sanity texts in nine languages too. */
async function readTexts(): Promise<{ sentences: string[]; multilingual: string[] }> {
  const rows = (await readFile(datasetPath('sst2', 'test.tsv'), 'utf8')).trim().split('\n').slice(1);
  const sentences = rows.slice(0, TEXT_COUNT).map((row) => row.split('\t')[0]);
  const sanity = JSON.parse(await readFile(join(mirrorFolder, 'langid-fasttext-lid176', 'sanity.json'), 'utf8')) as { cases: { text: string }[] };
  return { sentences, multilingual: [...sentences, ...sanity.cases.map((entry) => entry.text)] };
}

/** Top-1 labels of a variant, through honnx's own classify task (fp32 read from the mirror, quantized from the copy). */
async function topLabels(folder: string, name: string, variant: ModelVariant, engine: Engine, texts: readonly string[]): Promise<string[]> {
  const classifier = await createClassifier(await loadModelBundle(createFolderModelFiles(folder, name), engine, { variant }));
  const labels: string[] = [];
  for (let start = 0; start < texts.length; start += 32) {
    const batch = await classify(classifier, texts.slice(start, start + 32), { truncate: true });
    labels.push(...batch.map((scores) => scores[0].label));
  }
  await classifier.session.release();
  return labels;
}

const agreement = (reference: readonly string[], candidate: readonly string[]) => candidate.filter((label, index) => label === reference[index]).length / reference.length;

async function greedyIds(folder: string, variant: ModelVariant, engine: Engine, prompt: string, count: number): Promise<number[]> {
  const generator = await createTextGenerator(await loadModelBundle(createFolderModelFiles(folder, 'tinystories-260k'), engine, { variant }));
  try {
    return (await generateText(generator, prompt, { maxNewTokens: count })).tokenIds;
  } finally {
    await generator.model.release();
  }
}

const copies: Record<string, QuantizedCopy> = {};
let texts: { sentences: string[]; multilingual: string[] };
let greedy: GreedySample[];

beforeAll(async () => {
  for (const name of ['sentiment-sst2-mini', 'langid-fasttext-lid176', 'tinystories-260k']) copies[name] = await makeQuantizedCopy(join(mirrorFolder, name));
  texts = await readTexts();
  greedy = parseGreedySamples(await readFile(join(mirrorFolder, 'tinystories-260k', 'sanity.json'), 'utf8'));
});
afterAll(async () => {
  for (const copy of Object.values(copies)) await copy.remove();
});

describe('quantizing the real models', () => {
  it('shrinks the graphs: int8 to about a quarter (one byte per weight instead of four), q4 below int8', async () => {
    for (const name of ['sentiment-sst2-mini', 'langid-fasttext-lid176']) {
      const fp32 = (await stat(join(mirrorFolder, name, 'onnx', 'model.onnx'))).size;
      const int8 = (await stat(join(copies[name].folder, 'onnx', 'model_int8.onnx'))).size;
      const q4 = (await stat(join(copies[name].folder, 'onnx', 'model_q4.onnx'))).size;
      expect(int8 / fp32).toBeLessThan(0.35);
      expect(q4).toBeLessThan(int8);
      expect(copies[name].reports.int8[0].bytesAfter).toBe(int8);
    }
  });

  it('keeps a cache of quantized copies for suites that cannot quantize (workerd), rebuilt only when stale', async () => {
    const output = await mkdtemp(join(tmpdir(), 'honnx-quantized-cache-'));
    try {
      await ensureQuantizedModels(mirrorFolder, output);
      for (const name of QUANTIZED_MODEL_NAMES) {
        for (const graph of ['model_int8.onnx', 'model_q4.onnx']) expect((await stat(join(output, name, 'onnx', graph))).size).toBeGreaterThan(0);
        expect((await stat(join(output, name, 'config.json'))).isFile()).toBe(true);
      }
      const written = (await stat(join(output, 'sentiment-sst2-mini', 'onnx', 'model_int8.onnx'))).mtimeMs;
      await ensureQuantizedModels(mirrorFolder, output);
      expect((await stat(join(output, 'sentiment-sst2-mini', 'onnx', 'model_int8.onnx'))).mtimeMs).toBe(written);
    } finally {
      await rm(output, { recursive: true, force: true });
    }
  });

  it('reports every MatMul it changed and every one it left, with the reason', () => {
    const [report] = copies['sentiment-sst2-mini'].reports.int8;
    // sentiment-sst2-mini: 4 layers × 6 weight MatMuls + the pooler Gemm are quantized; the 8 attention
    // products (activation × activation) and the 192 × 2 classifier are not.
    expect(report.decisions.filter((decision) => decision.changed && decision.opType === 'MatMul')).toHaveLength(24);
    const attention = report.decisions.filter((decision) => decision.node.endsWith('/attention/self/MatMul') || decision.node.endsWith('/attention/self/MatMul_1'));
    expect(attention).toHaveLength(8);
    expect(attention.every((decision) => !decision.changed && decision.detail.includes('computed at run time'))).toBe(true);
    expect(report.decisions.find((decision) => decision.node === '/classifier/Gemm')).toMatchObject({ changed: false });
    expect(report.decisions.find((decision) => decision.node === '/embeddings/word_embeddings/Gather')).toMatchObject({ changed: true });
  });
});

describe.each(enginesUnderTest)('quantized models on $name', (engineUnderTest) => {
  let engine: Engine;
  beforeAll(() => {
    engine = engineUnderTest.create();
  });

  it(`sentiment-sst2-mini agrees with fp32 on the top label of ${TEXT_COUNT} SST-2 test sentences: int8 ≥ 99%, q4 ≥ 97%`, async () => {
    const name = 'sentiment-sst2-mini';
    const reference = await topLabels(join(mirrorFolder, name), name, 'fp32', engine, texts.sentences);
    expect(reference).toHaveLength(TEXT_COUNT);
    expect(agreement(reference, await topLabels(copies[name].folder, name, 'int8', engine, texts.sentences))).toBeGreaterThanOrEqual(0.99);
    expect(agreement(reference, await topLabels(copies[name].folder, name, 'q4', engine, texts.sentences))).toBeGreaterThanOrEqual(0.97);
  });

  it('langid-fasttext-lid176 agrees with fp32 on the top language: int8 ≥ 99%, q4 ≥ 97%', async () => {
    const name = 'langid-fasttext-lid176';
    const reference = await topLabels(join(mirrorFolder, name), name, 'fp32', engine, texts.multilingual);
    // The sanity texts keep their documented languages in fp32 (sanity.json: de, ru, zh, ...).
    expect(reference.slice(TEXT_COUNT)).toEqual(expect.arrayContaining(['fr', 'de', 'ru', 'zh', 'es', 'it', 'ja']));
    expect(agreement(reference, await topLabels(copies[name].folder, name, 'int8', engine, texts.multilingual))).toBeGreaterThanOrEqual(0.99);
    expect(agreement(reference, await topLabels(copies[name].folder, name, 'q4', engine, texts.multilingual))).toBeGreaterThanOrEqual(0.97);
  });

  it('tinystories-260k int8 gives the same first 20 greedy tokens as fp32, for every sanity prompt', async () => {
    for (const sample of greedy) {
      const fp32 = await greedyIds(join(mirrorFolder, 'tinystories-260k'), 'fp32', engine, sample.prompt, 20);
      // fp32 reproduces the published sample (sanity.json, karpathy's llama2.c run).
      expect(fp32).toEqual(sample.greedy_ids.slice(sample.prompt_ids.length, sample.prompt_ids.length + 20));
      expect(await greedyIds(copies['tinystories-260k'].folder, 'int8', engine, sample.prompt, 20)).toEqual(fp32);
    }
  });

  it('tinystories-260k q4 runs the whole KV-cache loop', async () => {
    const ids = await greedyIds(copies['tinystories-260k'].folder, 'q4', engine, '', 20);
    expect(ids).toHaveLength(20);
  });
});
