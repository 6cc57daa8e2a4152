import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, env, pipeline } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createGenerativeSummarizer, summarizeGeneratively } from '../../src/tasks/summarize/generative.ts';
import { createTextGenerator, type TextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { mirrorFolder, mirrorModelFiles } from '../support/shared-models.ts';

const tinyModelsFolder = process.env.HONNX_TINY_MODELS ?? join(import.meta.dirname, '../../.cache/tiny-models');

/**
 * transformers.js (a dev dependency, Hugging Face's own JavaScript port of `generate`) as an independent
 * reference for the parts of decoding that sanity.json does not pin down.
 */
describe('tinystories-260k against transformers.js generate', () => {
  let generator: TextGenerator;
  let referenceGenerate: (prompt: string, options: Record<string, unknown>) => Promise<number[]>;
  beforeAll(async () => {
    env.allowRemoteModels = false;
    env.localModelPath = `${mirrorFolder}/`;
    const tokenizer = await AutoTokenizer.from_pretrained('tinystories-260k');
    const model = await AutoModelForCausalLM.from_pretrained('tinystories-260k', { dtype: 'fp32' });
    referenceGenerate = async (prompt, options) => {
      const inputs = tokenizer(prompt);
      const output = (await model.generate({ ...inputs, ...options })) as { tolist(): bigint[][] };
      return output.tolist()[0].map(Number).slice(inputs.input_ids.dims[1]);
    };
    generator = await createTextGenerator(await loadModelBundle(mirrorModelFiles('tinystories-260k'), createNodeEngine({ threads: 1 })));
  });
  afterAll(() => generator?.model.release());

  it('applies the repetition penalty as Hugging Face does', async () => {
    const prompt = 'Lily and Tom went to the';
    const expected = await referenceGenerate(prompt, { max_new_tokens: 24, do_sample: false, repetition_penalty: 1.3 });
    const plain = await generateText(generator, prompt, { maxNewTokens: 24 });
    const penalized = await generateText(generator, prompt, { maxNewTokens: 24, repetitionPenalty: 1.3 });
    expect(penalized.tokenIds).toEqual(expected);
    // Unpenalized, the story repeats itself ("a big box with a big box"); the penalty steers it elsewhere.
    expect(penalized.tokenIds).not.toEqual(plain.tokenIds);
    expect(plain.generatedText).toContain('a big box with a big box');
    expect(penalized.generatedText).not.toContain('a big box with a big box');
  });

  it('stops on the end-of-sequence id of generation_config.json (BOS) where transformers.js does', async () => {
    const expected = await referenceGenerate('', { max_new_tokens: 400, do_sample: false });
    const result = await generateText(generator, '', { maxNewTokens: 400 });
    expect(expected.at(-1)).toBe(1);
    expect(result.tokenIds).toEqual(expected);
    expect(result.finishReason).toBe('eos_token');
    expect(result.generatedText).toBe(generator.tokenizer.decode([1, ...expected]));
  });

  it('holds end-of-sequence back until min_new_tokens as transformers.js does', async () => {
    // End-of-sequence forced to "." so that the minimum matters within a few tokens.
    const expected = await referenceGenerate('', { max_new_tokens: 30, do_sample: false, eos_token_id: 426, min_new_tokens: 20 });
    const result = await generateText(generator, '', { maxNewTokens: 30, eosTokenIds: [426], minNewTokens: 20 });
    expect(result.tokenIds).toEqual(expected);
    expect(result.tokenIds.length).toBeGreaterThan(20);
  });
});

/** The generated tiny models (random weights) against transformers.js: same tokens for a GPT-2 and a T5 layout. */
describe.each([
  { name: 'tiny-gpt2-decoder', prompt: 'The movie was wonderful and', seq2seq: false },
  { name: 'tiny-t5-encoder-decoder', prompt: 'summarize: The movie was wonderful and the actors were great.', seq2seq: true },
])('$name against transformers.js generate', ({ name, prompt, seq2seq }) => {
  const present = existsSync(join(tinyModelsFolder, name, 'config.json'));
  let generator: TextGenerator;
  let referenceGenerate: (options: Record<string, unknown>) => Promise<number[]>;
  beforeAll(async () => {
    if (!present) return;
    env.allowRemoteModels = false;
    env.localModelPath = `${tinyModelsFolder}/`;
    const tokenizer = await AutoTokenizer.from_pretrained(name);
    const model = seq2seq
      ? await AutoModelForSeq2SeqLM.from_pretrained(name, { dtype: 'fp32' })
      : await AutoModelForCausalLM.from_pretrained(name, { dtype: 'fp32' });
    referenceGenerate = async (options) => {
      const inputs = tokenizer(prompt);
      const output = ((await model.generate({ ...inputs, ...options })) as { tolist(): bigint[][] }).tolist()[0].map(Number);
      // A causal model's output starts with the prompt, a sequence-to-sequence one's with the decoder start token.
      return output.slice(seq2seq ? 1 : inputs.input_ids.dims[1]);
    };
    generator = await createTextGenerator(await loadModelBundle(createFolderModelFiles(join(tinyModelsFolder, name)), createNodeEngine({ threads: 1 })));
  });
  afterAll(() => generator?.model.release());

  it.skipIf(!present)('chooses the same tokens, greedy and with a repetition penalty', async () => {
    for (const repetitionPenalty of [1, 1.5]) {
      const expected = await referenceGenerate({ max_new_tokens: 16, do_sample: false, repetition_penalty: repetitionPenalty });
      const result = await generateText(generator, prompt, { maxNewTokens: 16, repetitionPenalty });
      expect(result.tokenIds).toEqual(expected);
    }
  });
});

describe('generative summary with tiny-t5-encoder-decoder against the transformers.js summarization pipeline', () => {
  const name = 'tiny-t5-encoder-decoder';
  const present = existsSync(join(tinyModelsFolder, name, 'config.json'));

  it.skipIf(!present)('puts the config prefix ("summarize: ") in front and stops at max_length - 1 new tokens', async () => {
    env.allowRemoteModels = false;
    env.localModelPath = `${tinyModelsFolder}/`;
    const text = 'The movie was wonderful and the actors were great. I really did not like the ending.';
    const summarize = await pipeline('summarization', name, { dtype: 'fp32' });
    // A penalty keeps the random-weight model from repeating one token, so the comparison means something.
    const [expected] = (await summarize(text, { max_new_tokens: 31, repetition_penalty: 2 })) as { summary_text: string }[];
    const summarizer = await createGenerativeSummarizer(await loadModelBundle(createFolderModelFiles(join(tinyModelsFolder, name)), createNodeEngine({ threads: 1 })));
    const result = await summarizeGeneratively(summarizer, text, { repetitionPenalty: 2 });
    expect(result.tokenIds).toHaveLength(31);
    expect(result.generatedText).toBe(expected.summary_text.trim());
    await summarizer.generator.model.release();
  });
});
