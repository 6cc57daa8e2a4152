import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { encodePrompt, generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator, type TextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { InputError } from '../../src/tasks/input-error.ts';
import { mirrorFolder, mirrorModelFiles } from '../support/shared-models.ts';
import { parseGreedySamples, type GreedySample } from '../support/tinystories-samples.ts';


describe('generation options on tinystories-260k (onnxruntime-node)', () => {
  let generator: TextGenerator;
  let samples: GreedySample[];
  let fromBos: GreedySample;
  beforeAll(async () => {
    generator = await createTextGenerator(await loadModelBundle(mirrorModelFiles('tinystories-260k'), createNodeEngine({ threads: 1 })));
    samples = parseGreedySamples(await readFile(join(mirrorFolder, 'tinystories-260k/sanity.json'), 'utf8'));
    fromBos = samples.find((sample) => sample.prompt === '')!;
  });
  afterAll(() => generator?.model.release());

  const publishedIds = () => fromBos.greedy_ids.slice(fromBos.prompt_ids.length);

  it('reproduces a sampled answer from its seed, and different seeds differ', async () => {
    const options = { maxNewTokens: 60, temperature: 1, topK: 40 };
    const first = await generateText(generator, 'Once upon a time', { ...options, seed: 7 });
    const again = await generateText(generator, 'Once upon a time', { ...options, seed: 7 });
    const other = await generateText(generator, 'Once upon a time', { ...options, seed: 8 });
    expect(again.tokenIds).toEqual(first.tokenIds);
    expect(again.generatedText).toBe(first.generatedText);
    expect(first.seed).toBe(7);
    expect(other.tokenIds).not.toEqual(first.tokenIds);
  });

  it('samples with top_k = 1 exactly as greedy decoding', async () => {
    const sampled = await generateText(generator, '', { maxNewTokens: 48, doSample: true, topK: 1, temperature: 1.3, seed: 99 });
    expect(sampled.tokenIds).toEqual(publishedIds());
  });

  it('treats temperature 0 as greedy', async () => {
    const result = await generateText(generator, '', { maxNewTokens: 48, temperature: 0, seed: 1 });
    expect(result.tokenIds).toEqual(publishedIds());
  });

  it('ends at a stop string, with the answer cut just before it', async () => {
    // The published greedy story: "Once upon a time, there was a little girl named Lily. She loved to play ...".
    const result = await generateText(generator, '', { maxNewTokens: 48, stop: ['Lily', 'park'] });
    expect(result.generatedText).toBe('Once upon a time, there was a little girl named ');
    expect(result.finishReason).toBe('stop_sequence');
    expect(result.tokenIds).toEqual(publishedIds().slice(0, result.tokenIds.length));
    expect(result.tokenIds.length).toBeLessThan(15);
  });

  it('ends at an end-of-sequence id, leaving it out of the text', async () => {
    // 426 is "." in the published story: it first appears after "named Lily".
    const dot = generator.tokenizer.tokenToId('.');
    expect(dot).toBe(426);
    const result = await generateText(generator, '', { maxNewTokens: 48, eosTokenIds: [426] });
    const expected = publishedIds().slice(0, publishedIds().indexOf(426) + 1);
    expect(result.tokenIds).toEqual(expected);
    expect(result.finishReason).toBe('eos_token');
    expect(result.generatedText).toBe('Once upon a time, there was a little girl named Lily');
  });

  it('puts the prompt in front of the answer only with returnFullText', async () => {
    const sample = samples.find((entry) => entry.prompt === 'Once upon a time, there was a dog')!;
    const options = { maxNewTokens: sample.greedy_ids.length - sample.prompt_ids.length };
    const short = await generateText(generator, sample.prompt, options);
    const full = await generateText(generator, sample.prompt, { ...options, returnFullText: true });
    expect(full.generatedText).toBe(sample.greedy_text);
    expect(short.generatedText).toBe(sample.greedy_text.slice(sample.prompt.length));
    expect(short.generatedText.startsWith(' named Max.')).toBe(true);
  });

  it('refuses a prompt longer than the model allows, and a function limit below it', () => {
    const long = 'Lily and Tom went to the park. '.repeat(80);
    expect(() => encodePrompt(generator, long)).toThrow(InputError);
    try {
      encodePrompt(generator, 'Lily and Tom went to the park.', 4);
      expect.unreachable();
    } catch (error) {
      expect((error as InputError).reason).toBe('too_large');
    }
  });

  it('stops when the model runs out of positions', async () => {
    const sentence = 'Lily and Tom went to the park. ';
    let repeats = 1;
    while (generator.tokenizer.encode(sentence.repeat(repeats + 1)).ids.length < 505) repeats++;
    const promptTokens = encodePrompt(generator, sentence.repeat(repeats)).length;
    expect(promptTokens).toBeGreaterThan(480);
    const result = await generateText(generator, sentence.repeat(repeats), { maxNewTokens: 100 });
    expect(result.tokenIds.length).toBe(512 - promptTokens);
    expect(result.finishReason).toBe('length');
  });

  it('stops at once when the request is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(generateText(generator, 'Once', { maxNewTokens: 5, signal: controller.signal })).rejects.toThrow();
  });
});
