import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator, type TextGenerator } from '../../src/tasks/generate/text-generator.ts';

const greedy = { maxNewTokens: 10, doSample: false };

/** A 2-layer, hidden-64 Qwen3 (real vocabulary, float16 logits and cache) in its fp16 and q4f16 exports. */
describe.each(['fp16', 'q4f16'] as const)('a %s causal LM (reduced qwen3-0.6b)', (variant) => {
  const root = mkdtempSync(join(tmpdir(), `honnx-${variant}-`));
  let generator: TextGenerator;
  beforeAll(async () => {
    await synthesizeModel({ preset: 'qwen3-0.6b', outputFolder: root, variant, layers: 2, hiddenSize: 64 });
    generator = await createTextGenerator(await loadModelBundle(createFolderModelFiles(root, 'qwen3-reduced'), createNodeEngine({ threads: 1 }), { variant }));
  }, 60_000);
  afterAll(async () => {
    await generator?.model.release();
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps a float16 cache and reads every end-of-sequence id of generation_config.json', async () => {
    const prompt = generator.tokenizer.encode('Hello there').ids;
    const step = await generator.model.batched!.prefill([prompt]);
    expect(step.batch.past.get('past_key_values.0.key')!.data).toBeInstanceOf(Uint16Array);
    expect(step.scores[0]).toBeInstanceOf(Float32Array);
    expect(step.scores[0]).toHaveLength(151936);
    expect(generator.defaults.eosTokenIds).toEqual([151645, 151643]);
  });

  it('decodes in a shared batch, prompts of different lengths, to the tokens of the uncached reference', async () => {
    const prompts = ['Hello there, how are you', 'One', 'The quick brown fox jumps over the lazy dog and'];
    const reference = [];
    for (const prompt of prompts) reference.push((await generateText(generator, prompt, { ...greedy, useCache: false })).tokenIds);
    const together = await Promise.all(prompts.map((prompt) => generateText(generator, prompt, greedy)));
    expect(together.map((result) => result.tokenIds)).toEqual(reference);
  });
});
