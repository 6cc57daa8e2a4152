import { describe, expect, it } from 'vitest';
import { loadModelBundle, type ModelVariant } from '../../src/models/model-bundle.ts';
import { createFetcherModelFiles } from '../../src/runtime/workers/fetcher-model-files.ts';
import { classify, createClassifier } from '../../src/tasks/classify/classify.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { modelService, workersEngine } from './workerd-context.ts';

/** fp32 from the mirror; int8 and q4 made by `honnx models quantize` (test/workers/quantized-global-setup.ts). */
const VARIANTS: readonly (readonly [ModelVariant, string])[] = [
  ['fp32', 'shared'],
  ['int8', 'quantized'],
  ['q4', 'quantized'],
];

function loadVariant(name: string, variant: ModelVariant, root: string) {
  const files = createFetcherModelFiles(modelService, name, { prefix: `/${root}/${name}`, bindingName: 'MODELS' });
  return loadModelBundle(files, workersEngine(), { variant });
}

async function topLabelsPerVariant(name: string, texts: string[]): Promise<Record<string, string[]>> {
  const labels: Record<string, string[]> = {};
  for (const [variant, root] of VARIANTS) {
    const classifier = await createClassifier(await loadVariant(name, variant, root));
    labels[variant] = (await classify(classifier, texts)).map(([best]) => best.label);
  }
  return labels;
}

describe('quantized models inside workerd (onnxruntime-web WASM runs MatMulInteger and MatMulNBits)', () => {
  it('int8 and q4 classifiers give the fp32 labels', async () => {
    const sentiment = await topLabelsPerVariant('sentiment-sst2-mini', [
      'I love this',
      'I hate this',
      'An absolute masterpiece',
      'The movie was boring and far too long',
      'It was okay',
    ]);
    expect(sentiment.int8).toEqual(sentiment.fp32);
    expect(sentiment.q4).toEqual(sentiment.fp32);
    const language = await topLabelsPerVariant('langid-fasttext-lid176', ['Ich liebe dieses Buch sehr.', 'Это очень хорошая книга.', 'Hello, world!']);
    expect(language.fp32).toEqual(['de', 'ru', 'en']);
    expect(language.int8).toEqual(language.fp32);
    expect(language.q4).toEqual(language.fp32);
  });

  it('int8 TinyStories gives the same first 20 greedy tokens as fp32, and q4 runs', async () => {
    const tokens: Record<string, number[]> = {};
    for (const [variant, root] of VARIANTS) {
      const generator = await createTextGenerator(await loadVariant('tinystories-260k', variant, root));
      tokens[variant] = (await generateText(generator, '', { maxNewTokens: 20 })).tokenIds;
    }
    expect(tokens.int8).toEqual(tokens.fp32);
    expect(tokens.q4).toHaveLength(20);
  });
});
