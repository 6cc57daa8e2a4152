import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { computeLongRopeCaches } from '../../src/models/synth/rotary.ts';
import { SYNTH_PRESETS } from '../../src/models/synth/synth-presets.ts';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { decodeModel } from '../../src/onnx/onnx-codec.ts';
import type { NodeProto } from '../../src/onnx/onnx-types.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { buildPrompt } from '../../src/tasks/generate/prompt.ts';
import { createTextGenerator } from '../../src/tasks/generate/text-generator.ts';

const attribute = (node: NodeProto, name: string) => Number(node.attribute!.find((entry) => entry.name === name)?.i);

/** A 1-layer, hidden-128 Phi-3.5-mini in onnxruntime-genai's layout, with the real vocabulary, chat tokens and LongRoPE. */
describe('honnx models synth phi-3.5-mini-genai (reduced)', () => {
  const root = mkdtempSync(join(tmpdir(), 'honnx-synth-genai-'));
  const folder = join(root, 'phi-3.5-mini-genai');
  beforeAll(async () => {
    await synthesizeModel({ preset: 'phi-3.5-mini-genai', outputFolder: folder, variant: 'q4', layers: 1, hiddenSize: 128, accuracyLevel: 4 });
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("writes genai's layout: model.onnx at the root, genai_config.json naming it, Phi-3.5's config and tokens", () => {
    expect(existsSync(join(folder, 'onnx'))).toBe(false);
    const genai = JSON.parse(readFileSync(join(folder, 'genai_config.json'), 'utf8'));
    expect(genai.model).toMatchObject({
      type: 'phi3',
      context_length: 131072,
      eos_token_id: [32007, 32001, 32000],
      vocab_size: 32064,
      decoder: { filename: 'model.onnx', num_attention_heads: 32, num_key_value_heads: 32, num_hidden_layers: 1, head_size: 16, inputs: { past_key_names: 'past_key_values.%d.key' } },
    });
    expect(genai.search.past_present_share_buffer).toBe(false);
    const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'phi3', tie_word_embeddings: false, original_max_position_embeddings: 4096, rope_scaling: { type: 'longrope' } });
    expect(config.rope_scaling.short_factor).toHaveLength(48);
    const tokenizer = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8'));
    expect(tokenizer.added_tokens.find((token: { id: number }) => token.id === 32010).content).toBe('<|user|>');
  });

  it('is one GroupQueryAttention per layer, rotary inside, LongRoPE caches chosen by length, MatMulNBits at accuracy_level 4', () => {
    const graph = decodeModel(readFileSync(join(folder, 'model.onnx'))).graph!;
    expect(graph.input!.map((input) => input.name)).toEqual(['input_ids', 'attention_mask', 'past_key_values.0.key', 'past_key_values.0.value']);
    const attention = graph.node!.filter((node) => node.op_type === 'GroupQueryAttention');
    expect(attention).toHaveLength(1);
    expect(attention[0].domain).toBe('com.microsoft');
    expect([attribute(attention[0], 'do_rotary'), attribute(attention[0], 'num_heads'), attribute(attention[0], 'kv_num_heads')]).toEqual([1, 32, 32]);
    expect(graph.node!.filter((node) => node.op_type === 'If')).toHaveLength(1);
    const sizes = Object.fromEntries(graph.initializer!.filter((tensor) => tensor.name!.includes('_cache_')).map((tensor) => [tensor.name, tensor.dims!.map(Number)]));
    expect(sizes).toEqual({ cos_cache_small: [4096, 8], sin_cache_small: [4096, 8], cos_cache_large: [131072, 8], sin_cache_large: [131072, 8] });
    const quantized = graph.node!.filter((node) => node.op_type === 'MatMulNBits');
    // qkv, o, gate, up, down, and lm_head of its own.
    expect(quantized).toHaveLength(6);
    for (const node of quantized) expect(attribute(node, 'accuracy_level')).toBe(4);
  });

  it('computes the LongRoPE caches as genai does: per-dimension factors, scaled by sqrt(1 + ln 32 / ln 4096)', () => {
    const shape = SYNTH_PRESETS['phi-3.5-mini-genai'].shape;
    const short = computeLongRopeCaches(shape, 'short', 16);
    const long = computeLongRopeCaches(shape, 'long', 16);
    // Reference values from the formula evaluated in Python (float64).
    expect(short.cos[1 * 48 + 0]).toBeCloseTo(0.6430883745223313, 6);
    expect(short.sin[7 * 48 + 1]).toBeCloseTo(-0.6902585576393598, 6);
    expect(long.cos[10 * 48 + 1]).toBeCloseTo(0.4830573711345377, 6);
    expect(short.cos[0]).toBeCloseTo(1.1902380714238083, 6);
  });

  it('is served by honnx from the folder: the same greedy tokens with and without the cache, the chat template in Phi-3 tokens', async () => {
    const generator = await createTextGenerator(await loadModelBundle(createFolderModelFiles(folder), createNodeEngine({ threads: 1 }), { variant: 'q4' }));
    try {
      const prompt = 'The quick brown fox jumps over the lazy dog.';
      const cached = await generateText(generator, prompt, { maxNewTokens: 12, doSample: false });
      const uncached = await generateText(generator, prompt, { maxNewTokens: 12, doSample: false, useCache: false });
      expect(cached.tokenIds).toHaveLength(12);
      expect(cached.tokenIds).toEqual(uncached.tokenIds);
      const chat = buildPrompt(generator, [{ role: 'user', content: 'hi' }]);
      const ids = generator.tokenizer.encode(chat.text, { addSpecialTokens: chat.addSpecialTokens }).ids;
      expect(ids[0]).toBe(32010);
      expect(ids.slice(-2)).toEqual([32007, 32001]);
    } finally {
      await generator.model.release();
    }
  }, 60_000);
});
