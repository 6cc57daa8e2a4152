import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Engine, EngineSession, Feeds, Tensor } from '../../src/engine/engine.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { rewriteGraph } from '../../src/engine/rewrite-graph.ts';
import { readGroupQueryAttentionSetting } from '../../src/engine/rewrite-settings.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { createNode, decodeModel, encodeModel, useGroupQueryAttention } from '../../src/onnx/index.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator } from '../../src/tasks/generate/text-generator.ts';

const VOCABULARY = 151_936;
const LAYERS = 2;
const KEY_VALUE_HEADS = 8;
const HEAD_SIZE = 8;

const int64 = (values: number[], dims: number[]): Tensor => ({ type: 'int64', data: BigInt64Array.from(values, BigInt), dims });

/** Two rows decoded together, as the step loop batches them: row 0 left-padded by 2, row 1 the full width. */
async function prefillThenStep(session: EngineSession) {
  const mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
  const feeds: Feeds = {
    input_ids: int64([5, 5, 100, 200, 300, 400, 10, 20, 30, 40, 50, 60], [2, 6]),
    attention_mask: int64(mask, [2, 6]),
    position_ids: int64([0, 0, 0, 1, 2, 3, 0, 1, 2, 3, 4, 5], [2, 6]),
  };
  for (let layer = 0; layer < LAYERS; layer++) {
    for (const kind of ['key', 'value']) feeds[`past_key_values.${layer}.${kind}`] = { type: 'float32', data: new Float32Array(0), dims: [2, KEY_VALUE_HEADS, 0, HEAD_SIZE] };
  }
  const prefill = await session.run(feeds);
  const step: Feeds = {
    input_ids: int64([7, 8], [2, 1]),
    attention_mask: int64([...mask.slice(0, 6), 1, ...mask.slice(6), 1], [2, 7]),
    position_ids: int64([4, 6], [2, 1]),
  };
  for (let layer = 0; layer < LAYERS; layer++) {
    for (const kind of ['key', 'value']) step[`past_key_values.${layer}.${kind}`] = prefill[`present.${layer}.${kind}`];
  }
  return { prefill, step: await session.run(step) };
}

function largestDifference(a: Tensor, b: Tensor, from = 0): number {
  const left = a.data as Float32Array;
  const right = b.data as Float32Array;
  let largest = 0;
  for (let index = from; index < left.length; index++) largest = Math.max(largest, Math.abs(left[index] - right[index]));
  return largest;
}

describe('GroupQueryAttention put into optimum decoders at load (onnxruntime-node)', () => {
  const root = mkdtempSync(join(tmpdir(), 'honnx-group-query-attention-'));
  const qwen = join(root, 'qwen3');
  const path = join(qwen, 'onnx', 'model_q4.onnx');
  beforeAll(async () => {
    await synthesizeModel({ preset: 'qwen3-0.6b', variant: 'q4', layers: LAYERS, hiddenSize: 64, outputFolder: qwen });
    await synthesizeModel({ preset: 'llama-3.2-1b', variant: 'q4', layers: LAYERS, hiddenSize: 128, outputFolder: join(root, 'llama') });
    await synthesizeModel({ preset: 'qwen3-0.6b', variant: 'fp16', layers: LAYERS, hiddenSize: 64, outputFolder: join(root, 'qwen3-fp16') });
    await synthesizeModel({ preset: 'phi-3.5-mini-genai', variant: 'q4', layers: 1, hiddenSize: 128, outputFolder: join(root, 'phi') });
  }, 120_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('replaces every layer, and left-padded rows get the logits and cache of the graph as exported', async () => {
    const rewritten = rewriteGraph(path, { groupQueryAttention: true })!;
    expect(rewritten.groupQueryAttentionLayers).toBe(LAYERS);
    const nodes = decodeModel(rewritten.bytes).graph!.node!;
    expect(nodes.filter((node) => node.op_type === 'GroupQueryAttention')).toHaveLength(LAYERS);
    expect(nodes.filter((node) => node.op_type === 'Expand' && !node.name?.startsWith('honnx_gqa'))).toHaveLength(0);

    const engine = createNodeEngine({ threads: 1 });
    const exported = await engine.createSession(path);
    const replaced = await engine.createSession(path, { groupQueryAttention: true });
    const before = await prefillThenStep(exported);
    const after = await prefillThenStep(replaced);
    await exported.release();
    await replaced.release();
    // Row 0's two padding positions attend to nothing real in either graph; every other position must agree.
    expect(largestDifference(before.prefill.logits, after.prefill.logits, 2 * VOCABULARY)).toBeLessThan(1e-3);
    expect(largestDifference(before.step.logits, after.step.logits)).toBeLessThan(1e-3);
    expect(after.step['present.1.key'].dims).toEqual([2, KEY_VALUE_HEADS, 7, HEAD_SIZE]);
    // The second layer's cache at row 0's padding comes from what those positions attended to: only the rest counts.
    const unpadded = (tensor: Tensor) => {
      const [rows, heads, width, size] = tensor.dims;
      const kept: number[] = [];
      for (let row = 0; row < rows; row++) {
        for (let head = 0; head < heads; head++) {
          for (let position = row === 0 ? 2 : 0; position < width; position++) {
            const start = ((row * heads + head) * width + position) * size;
            kept.push(...(tensor.data as Float32Array).subarray(start, start + size));
          }
        }
      }
      return { type: 'float32', data: Float32Array.from(kept), dims: [kept.length] } satisfies Tensor;
    };
    expect(largestDifference(unpadded(before.step['present.1.value']), unpadded(after.step['present.1.value']))).toBeLessThan(1e-4);
    // Not the same kernels: a session that silently kept the exported graph would give bit-equal logits.
    expect(largestDifference(before.step.logits, after.step.logits)).toBeGreaterThan(0);
  }, 60_000);

  it.each(['qwen3', 'llama'])('is what the generate task opens (%s), with the same greedy tokens over chunked prefill and concurrent rows', async (name) => {
    const opened: { groupQueryAttention?: boolean }[] = [];
    const recording = (engine: Engine, force?: boolean): Engine => ({
      ...engine,
      async createSession(model, options) {
        const chosen = force === undefined ? options : { ...options, groupQueryAttention: force };
        opened.push({ groupQueryAttention: chosen?.groupQueryAttention });
        return engine.createSession(model, chosen);
      },
    });
    // Over 128 prompt tokens, so the prefill runs in chunks that each read the cache of the one before; prompts that
    // arrive together are prefilled as rows of one batch (64 tokens a row a chunk), which the rewritten graph runs
    // one row at a time.
    const words = (count: number, word: string) => Array.from({ length: count }, (_, index) => `${word}${index} and more`).join(' ');
    const prompts = [words(40, 'word'), words(30, 'fox'), `Once upon a time ${words(20, 'tale')}`, 'The quick brown fox jumps over the lazy dog.'];
    const generate = async (engine: Engine) => {
      const generator = await createTextGenerator(await loadModelBundle(createFolderModelFiles(join(root, name)), engine, { variant: 'q4' }));
      const options = { maxNewTokens: 16, doSample: false, eosTokenIds: [] };
      const alone = await generateText(generator, { text: prompts[0], addSpecialTokens: true }, options);
      const together = await Promise.all(prompts.slice(1).map((text) => generateText(generator, { text, addSpecialTokens: true }, options)));
      await generator.model.release();
      return [alone, ...together].map((answer) => answer.tokenIds);
    };
    expect(rewriteGraph(join(root, name, 'onnx', 'model_q4.onnx'), { groupQueryAttention: true })?.groupQueryAttentionLayers).toBe(LAYERS);
    const withAttention = await generate(recording(createNodeEngine({ threads: 1 })));
    expect(opened.at(-1)!.groupQueryAttention).toBe(true);
    const asExported = await generate(recording(createNodeEngine({ threads: 1 }), false));
    expect(withAttention.map((tokens) => tokens.length)).toEqual([16, 16, 16, 16]);
    expect(withAttention).toEqual(asExported);
  }, 120_000);

  it('refuses, leaving the graph exactly as it was, what it does not recognise', () => {
    const refusal = (model: ReturnType<typeof decodeModel>) => {
      const before = encodeModel(model);
      const result = useGroupQueryAttention(model);
      expect(result.layers).toBe(0);
      expect(Buffer.from(encodeModel(model)).equals(Buffer.from(before))).toBe(true);
      return result.refused;
    };
    // onnxruntime-genai's layout has it already.
    expect(refusal(decodeModel(readFileSync(join(root, 'phi', 'model.onnx'))))).toMatch(/already/);
    // A float16 cache.
    expect(refusal(decodeModel(readFileSync(join(root, 'qwen3-fp16', 'onnx', 'model_fp16.onnx'))))).toMatch(/float32/);
    // An operator the walk does not know between the cache and its MatMul, in one layer only: no layer is replaced.
    const edited = decodeModel(readFileSync(path));
    const graph = edited.graph!;
    const reader = graph.node!.find((node) => node.input?.includes('present.1.value'))!;
    reader.input = reader.input!.map((input) => (input === 'present.1.value' ? 'present.1.value.copy' : input));
    graph.node!.push(createNode('Identity', ['present.1.value'], ['present.1.value.copy'], {}, { name: 'an_identity' }));
    expect(refusal(edited)).toMatch(/present\.1\.value reaches Identity/);
  }, 60_000);

  it('a decoder it refuses opens as exported, and the engine says why', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      // As the generate task opens a decoder: logits_to_keep is still added, the attention stays.
      const session = await createNodeEngine({ threads: 1 }).createSession(join(root, 'qwen3-fp16', 'onnx', 'model_fp16.onnx'), { groupQueryAttention: true, logitsToKeep: true });
      expect(session.inputs.map((input) => input.name)).toContain('logits_to_keep');
      await session.release();
      expect(warn.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('GroupQueryAttention'))).toEqual([expect.stringMatching(/model_fp16\.onnx: attention left as exported.*float32/)]);
    } finally {
      warn.mockRestore();
    }
  }, 60_000);

  it('HONNX_GROUP_QUERY_ATTENTION=0 turns it off; other values are an error that names the variable', () => {
    expect(readGroupQueryAttentionSetting({})).toBe(true);
    expect(readGroupQueryAttentionSetting({ HONNX_GROUP_QUERY_ATTENTION: '0' })).toBe(false);
    expect(readGroupQueryAttentionSetting({ HONNX_GROUP_QUERY_ATTENTION: 'on' })).toBe(true);
    expect(() => readGroupQueryAttentionSetting({ HONNX_GROUP_QUERY_ATTENTION: 'fast' })).toThrow(/HONNX_GROUP_QUERY_ATTENTION must be 1 or 0/);
  });
});
