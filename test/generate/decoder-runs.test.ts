import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineSession, RunOptions } from '../../src/engine/engine.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { loadModelBundle, type ModelBundle } from '../../src/models/model-bundle.ts';
import { createDecoderOnlyModel } from '../../src/tasks/generate/decoder-only-model.ts';
import type { GenerativeModel } from '../../src/tasks/generate/generative-model.ts';
import { mirrorFolder, mirrorModelFiles } from '../support/shared-models.ts';
import { parseGreedySamples, type GreedySample } from '../support/tinystories-samples.ts';

const argmax = (scores: Float32Array) => scores.reduce((best, value, index) => (value > scores[best] ? index : best), 0);

/**
 * A session that records the output buffers each run was given, and says it writes into them: onnxruntime-node does
 * write into them (it also returns a copy, which is why its engine does not claim it), so the pooled path is checked here.
 */
function recordOutputs(session: EngineSession, seen: RunOptions[]): EngineSession {
  return {
    ...session,
    writesIntoOutputs: true,
    run: (feeds, names, options) => (seen.push(options ?? {}), session.run(feeds, names, options)),
  };
}

describe('decoder runs on tinystories-260k (onnxruntime-node)', () => {
  let bundle: ModelBundle;
  let samples: GreedySample[];
  const models: GenerativeModel[] = [];
  const open = async (options: { prefillChunkTokens?: number; seen?: RunOptions[] } = {}) => {
    const session = await bundle.openSession();
    const model = createDecoderOnlyModel(options.seen ? recordOutputs(session, options.seen) : session, {
      config: bundle.config,
      maxSequenceLength: 512,
      prefillChunkTokens: options.prefillChunkTokens,
    });
    models.push(model);
    return model;
  };
  beforeAll(async () => {
    bundle = await loadModelBundle(mirrorModelFiles('tinystories-260k'), createNodeEngine({ threads: 1 }));
    samples = parseGreedySamples(await readFile(join(mirrorFolder, 'tinystories-260k/sanity.json'), 'utf8'));
  });
  afterAll(() => Promise.all(models.map((model) => model.release())));

  /** Greedy ids of a lone cached generation. */
  const greedy = async (model: GenerativeModel, prompt: readonly number[], count: number) => {
    const decoding = await model.start(prompt, { useCache: true });
    for (let index = 0; index < count; index++) decoding.push(argmax(await decoding.nextScores()));
    return decoding.ids;
  };

  it('prefills a prompt in chunks of 3 tokens to the published greedy ids, alone and batched', async () => {
    const chunked = await open({ prefillChunkTokens: 3 });
    for (const sample of samples) {
      expect(await greedy(chunked, sample.prompt_ids, sample.greedy_ids.length - sample.prompt_ids.length)).toEqual(sample.greedy_ids);
    }
    const whole = await open();
    const prompts = samples.map((sample) => sample.prompt_ids).filter((ids) => ids.length > 1);
    expect(prompts.length).toBeGreaterThan(1);
    // Rows of different lengths, split across chunks that start some rows' prompts part-way through.
    const byChunks = await chunked.batched!.prefill(prompts);
    const inOneRun = await whole.batched!.prefill(prompts);
    expect(byChunks.batch.lengths).toEqual(prompts.map((ids) => ids.length));
    byChunks.scores.forEach((row, index) => {
      const reference = inOneRun.scores[index];
      expect(argmax(row)).toBe(argmax(reference));
      expect(Math.max(...row.map((value, entry) => Math.abs(value - reference[entry])))).toBeLessThan(1e-3);
    });
  });

  it('decodes into the same few pooled buffers step after step, instead of fresh engine memory', async () => {
    const seen: RunOptions[] = [];
    const model = await open({ seen });
    const decoding = model.batched!;
    let step = await decoding.prefill([samples[1].prompt_ids, samples[2].prompt_ids]);
    for (let index = 0; index < 40; index++) step = await decoding.step(step.batch, step.scores.map(argmax));
    const caches = new Set(seen.map((options) => options.outputs?.['present.0.key']?.data.buffer));
    const logits = new Set(seen.map((options) => options.outputs?.logits?.data.buffer));
    expect(caches.has(undefined)).toBe(false);
    // 41 runs over two alternating cache blocks, plus the few a cache outgrowing its block takes.
    expect(caches.size).toBeLessThanOrEqual(4);
    expect(logits.size).toBeLessThanOrEqual(2);
    // The batch's cache is the run's own output buffer, not a copy.
    expect(step.batch.past.get('past_key_values.0.key')!.data.buffer).toBe(seen.at(-1)!.outputs!['present.0.key'].data.buffer);
  });

  it('keeps and joins rows of pooled batches to the ids each row gets alone', async () => {
    const model = await open({ prefillChunkTokens: 4 });
    const decoding = model.batched!;
    const [, dog, lily] = samples;
    let first = await decoding.prefill([dog.prompt_ids]);
    const firstIds = [...dog.prompt_ids, argmax(first.scores[0])];
    first = await decoding.step(first.batch, [firstIds.at(-1)!]);
    firstIds.push(argmax(first.scores[0]));
    const second = await decoding.prefill([lily.prompt_ids]);
    const secondIds = [...lily.prompt_ids, argmax(second.scores[0])];
    let batch = decoding.join(first.batch, second.batch);
    for (let index = 0; index < 10; index++) {
      const step = await decoding.step(batch, [firstIds.at(-1)!, secondIds.at(-1)!]);
      firstIds.push(argmax(step.scores[0]));
      secondIds.push(argmax(step.scores[1]));
      batch = step.batch;
    }
    batch = decoding.keep(batch, [1]);
    for (let index = 0; index < 5; index++) {
      const step = await decoding.step(batch, [secondIds.at(-1)!]);
      secondIds.push(argmax(step.scores[0]));
      batch = step.batch;
    }
    expect(firstIds).toEqual(dog.greedy_ids.slice(0, firstIds.length));
    expect(secondIds).toEqual(lily.greedy_ids.slice(0, secondIds.length));
  });
});
