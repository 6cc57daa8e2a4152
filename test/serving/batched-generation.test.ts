import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { generateText, streamText } from '../../src/tasks/generate/generate-text.ts';
import { observeGeneration } from '../../src/tasks/generate/generation-observer.ts';
import { createTextGenerator, type TextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { enginesUnderTest } from '../support/engines.ts';
import { mirrorFolder, mirrorModelFiles } from '../support/shared-models.ts';
import { parseGreedySamples, type GreedySample } from '../support/tinystories-samples.ts';


const generatedModels = join(import.meta.dirname, '../../.cache/tiny-models');

describe.each(enginesUnderTest)('generations sharing the step loop ($name)', (engineUnderTest) => {
  const engine = engineUnderTest.create();
  let generator: TextGenerator;
  let samples: GreedySample[];
  const runs: number[] = [];
  beforeAll(async () => {
    generator = await createTextGenerator(await loadModelBundle(mirrorModelFiles('tinystories-260k'), engine));
    samples = parseGreedySamples(await readFile(join(mirrorFolder, 'tinystories-260k/sanity.json'), 'utf8'));
    observeGeneration(generator.model, { runCompleted: (rows) => runs.push(rows), tokensGenerated: () => {} });
  });
  afterAll(() => generator?.model.release());

  it('can batch this export: cache, attention mask and position ids', () => {
    expect(generator.model.batched).toBeDefined();
  });

  it('decodes prompts of different lengths in one batch to the published greedy ids, row by row', async () => {
    expect(new Set(samples.map((sample) => sample.prompt_ids.length)).size).toBe(3);
    runs.length = 0;
    const results = await Promise.all(
      samples.map((sample) => generateText(generator, sample.prompt, { maxNewTokens: sample.max_new_tokens, returnFullText: true })),
    );
    results.forEach((result, index) => {
      expect([...samples[index].prompt_ids, ...result.tokenIds]).toEqual(samples[index].greedy_ids);
      expect(result.generatedText).toBe(samples[index].greedy_text);
    });
    // The three prompts were prefilled together and then decoded together: runs held several rows.
    expect(Math.max(...runs)).toBe(3);
  });

  it('lets a request join a batch already decoding and leave it early, each row still matching its published ids', async () => {
    const [fromBos, dog, lily] = samples;
    const newTokens = (sample: GreedySample) => sample.greedy_ids.length - sample.prompt_ids.length;
    const order: string[] = [];
    const longIds: number[] = [];
    let short: Promise<number[]> | undefined;
    let middle: Promise<number[]> | undefined;
    for await (const event of streamText(generator, fromBos.prompt, { maxNewTokens: newTokens(fromBos) })) {
      if (event.kind !== 'token') continue;
      longIds.push(event.id);
      expect(event.logprob).toBeLessThanOrEqual(0);
      // Two requests join once the long one is decoding; the short one leaves long before it ends.
      if (longIds.length === 3) {
        short = generateText(generator, dog.prompt, { maxNewTokens: 5 }).then((result) => (order.push('short'), result.tokenIds));
        middle = generateText(generator, lily.prompt, { maxNewTokens: newTokens(lily) }).then((result) => (order.push('middle'), result.tokenIds));
      }
    }
    order.push('long');
    expect([...fromBos.prompt_ids, ...longIds]).toEqual(fromBos.greedy_ids);
    expect(await short).toEqual(dog.greedy_ids.slice(dog.prompt_ids.length, dog.prompt_ids.length + 5));
    expect([...lily.prompt_ids, ...(await middle!)]).toEqual(lily.greedy_ids);
    expect(order.indexOf('short')).toBeLessThan(order.indexOf('long'));
  });

  it('samples in a batch exactly what the same seed samples alone', async () => {
    const options = { maxNewTokens: 40, temperature: 0.9, topP: 0.95, repetitionPenalty: 1.1 };
    const alone = [];
    for (const seed of [3, 4, 5]) alone.push(await generateText(generator, 'Once upon a time', { ...options, seed }));
    const together = await Promise.all([3, 4, 5].map((seed) => generateText(generator, 'Once upon a time', { ...options, seed })));
    expect(together.map((result) => result.tokenIds)).toEqual(alone.map((result) => result.tokenIds));
    expect(new Set(alone.map((result) => result.tokenIds.join())).size).toBeGreaterThan(1);
  });

  it('drops an aborted generation from the batch and keeps decoding the others', async () => {
    const [fromBos, dog] = samples;
    const controller = new AbortController();
    const kept = generateText(generator, fromBos.prompt, { maxNewTokens: fromBos.max_new_tokens });
    let received = 0;
    const aborted = (async () => {
      for await (const event of streamText(generator, dog.prompt, { maxNewTokens: 200, signal: controller.signal })) {
        if (event.kind === 'token' && ++received === 3) controller.abort(new Error('client went away'));
      }
    })();
    await expect(aborted).rejects.toThrow('client went away');
    expect(received).toBeLessThan(200);
    expect([...fromBos.prompt_ids, ...(await kept).tokenIds]).toEqual(fromBos.greedy_ids);
  });

  describe('tiny GPT-2 (generated, learned positions)', () => {
    let gpt2: TextGenerator;
    beforeAll(async () => {
      gpt2 = await createTextGenerator(await loadModelBundle(createFolderModelFiles(join(generatedModels, 'tiny-gpt2-decoder'), 'tiny-gpt2-decoder'), engine));
    });
    afterAll(() => gpt2?.model.release());

    it('gives every row of a batch the tokens of the uncached single-request reference', async () => {
      const prompts = ['The movie was wonderful and', 'the cat', 'A long and winding sentence about nothing in particular, really'];
      const reference = [];
      for (const prompt of prompts) reference.push(await generateText(gpt2, prompt, { maxNewTokens: 12, useCache: false }));
      const batched = await Promise.all(prompts.map((prompt) => generateText(gpt2, prompt, { maxNewTokens: 12 })));
      expect(batched.map((result) => result.tokenIds)).toEqual(reference.map((result) => result.tokenIds));
    });
  });
});
