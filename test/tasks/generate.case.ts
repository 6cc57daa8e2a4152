import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { generateText, streamText } from '../../src/tasks/generate/generate-text.ts';
import { argmax } from '../../src/tasks/scores.ts';
import { createTextGenerator, type TextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { parseGreedySamples, type GreedySample } from '../support/tinystories-samples.ts';
import type { ConformanceCases } from './conformance.ts';


/**
 * Steps a cached and an uncached decoding side by side, feeding both the cached run's greedy token, and
 * returns the largest score difference seen and the tokens chosen.
 */
async function compareCacheWithoutCache(generator: TextGenerator, promptIds: number[], steps: number) {
  const cached = await generator.model.start(promptIds, { useCache: true });
  const uncached = await generator.model.start(promptIds, { useCache: false });
  let largestDifference = 0;
  let largestScore = 0;
  const chosen: number[] = [];
  for (let step = 0; step < steps; step++) {
    const withCache = await cached.nextScores();
    const without = await uncached.nextScores();
    expect(withCache.length).toBe(without.length);
    for (let i = 0; i < withCache.length; i++) {
      largestDifference = Math.max(largestDifference, Math.abs(withCache[i] - without[i]));
      largestScore = Math.max(largestScore, Math.abs(without[i]));
    }
    const id = argmax(withCache);
    expect(argmax(without)).toBe(id);
    chosen.push(id);
    cached.push(id);
    uncached.push(id);
  }
  return { largestDifference, largestScore, chosen };
}

/** A generated tiny model, or undefined while the fixtures have not been built. */
export const generateCases: ConformanceCases = (context) => {
  describe('generate: tinystories-260k (Llama architecture, GQA, KV cache)', () => {
    let generator: TextGenerator;
    let samples: GreedySample[];
    beforeAll(async () => {
      generator = await createTextGenerator(await loadModelBundle(context.sharedModel('tinystories-260k'), context.engine));
      samples = parseGreedySamples(await context.readSharedText('tinystories-260k/sanity.json'));
    });
    afterAll(() => generator?.model.release());

    for (const useCache of [true, false]) {
      it(`greedy output matches the published ids token for token, ${useCache ? 'with' : 'without'} the KV cache`, async () => {
        expect(samples.map((sample) => sample.prompt)).toEqual(['', 'Once upon a time, there was a dog', 'Lily and Tom went to the']);
        for (const sample of samples) {
          const result = await generateText(generator, sample.prompt, { maxNewTokens: sample.max_new_tokens, useCache, returnFullText: true });
          expect(result.promptTokens).toBe(sample.prompt_ids.length);
          expect([...sample.prompt_ids, ...result.tokenIds]).toEqual(sample.greedy_ids);
          expect(result.generatedText).toBe(sample.greedy_text);
          expect(result.finishReason).toBe('length');
        }
      });
    }

    it('reads the layout from the export: cache inputs, 512 positions, BOS as end of sequence', () => {
      expect(generator.model.kind).toBe('decoder-only');
      expect(generator.model.hasCache).toBe(true);
      expect(generator.model.maxSequenceLength).toBe(512);
      expect(generator.defaults.eosTokenIds).toEqual([1]);
    });

    it('gives the same scores with and without the cache at every step', async () => {
      const { largestDifference, largestScore } = await compareCacheWithoutCache(generator, [1, 317, 269, 274], 12);
      expect(largestScore).toBeGreaterThan(1);
      expect(largestDifference).toBeLessThan(1e-4 * largestScore);
    });

    it('streams the text of the non-streamed call, token by token', async () => {
      const options = { maxNewTokens: 40, seed: 5, temperature: 0.8, stop: ['park'] };
      const whole = await generateText(generator, 'Lily and Tom', options);
      const events = [];
      for await (const event of streamText(generator, 'Lily and Tom', options)) events.push(event);
      const tokens = events.filter((event) => event.kind === 'token');
      const done = events.at(-1)!;
      expect(done.kind).toBe('done');
      expect(tokens.map((event) => event.text).join('')).toBe(whole.generatedText);
      expect(tokens.map((event) => event.id)).toEqual(whole.tokenIds);
      if (done.kind === 'done') expect(done.generatedText).toBe(whole.generatedText);
    });

    it('samples the same tokens from a seed with and without the cache', async () => {
      const options = { maxNewTokens: 30, seed: 1234, temperature: 1, topP: 0.95 };
      const cached = await generateText(generator, 'Once upon a time', { ...options, useCache: true });
      const uncached = await generateText(generator, 'Once upon a time', { ...options, useCache: false });
      expect(uncached.tokenIds).toEqual(cached.tokenIds);
    });
  });

  // The generated models prove the cache loop of both layouts: decoder-only (GPT-2) and encoder-decoder (T5, merged decoder).
  const generatedModels = [
    { name: 'tiny-gpt2-decoder', kind: 'decoder-only', prompt: 'The movie was wonderful and' },
    { name: 'tiny-t5-encoder-decoder', kind: 'encoder-decoder', prompt: 'summarize: The movie was wonderful and the actors were great.' },
  ] as const;
  for (const { name, kind, prompt } of generatedModels) {
    describe(`generate: ${name} (generated ${kind} layout)`, () => {
      let generator: TextGenerator;
      beforeAll(async () => {
        generator = await createTextGenerator(await loadModelBundle(context.generatedModel(name), context.engine));
      });
      afterAll(() => generator?.model.release());

      it('gives the same scores and tokens with and without the KV cache', async () => {
        expect(generator.model.kind).toBe(kind);
        expect(generator.model.hasCache).toBe(true);
        const promptIds = generator.tokenizer.encode(prompt).ids;
        const { largestDifference, largestScore } = await compareCacheWithoutCache(generator, promptIds, 10);
        expect(largestDifference).toBeLessThan(1e-4 * Math.max(1, largestScore));
        const options = { maxNewTokens: 12, seed: 9, temperature: 1, repetitionPenalty: 1.5 };
        const cached = await generateText(generator, 'The movie was', { ...options, useCache: true });
        const uncached = await generateText(generator, 'The movie was', { ...options, useCache: false });
        expect(uncached.tokenIds).toEqual(cached.tokenIds);
      });
    });
  }
};
