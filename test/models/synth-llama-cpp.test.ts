import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type ControlledEvaluateInputItem, type Llama, type Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import type { Feeds } from '../../src/engine/engine.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { applyOverrides } from '../../src/models/synth/synth-presets.ts';
import { findPreset, synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { writeGgufModel } from '../../src/models/synth/write-gguf-model.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator } from '../../src/tasks/generate/text-generator.ts';

const POSITIONS = 256;
const CONTINUATION = 32;
const reduced = { layers: 2, hiddenSize: 64 };

/** Token ids drawn from a fixed LCG among ordinary vocabulary entries: the same sequence every run. */
function drawTokenIds(count: number, below: number): number[] {
  let state = 7;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return Math.floor((state / 2 ** 32) * below);
  });
}

function argmaxRows(logits: Float32Array, vocabulary: number): number[] {
  const rows: number[] = [];
  for (let start = 0; start < logits.length; start += vocabulary) {
    let best = 0;
    for (let id = 1; id < vocabulary; id++) if (logits[start + id] > logits[start + best]) best = id;
    rows.push(best);
  }
  return rows;
}

/**
 * The q4 model against llama.cpp (node-llama-cpp 3.21.1's prebuilt CPU build) running the same weights as Q4_0 GGUF:
 * an implementation that shares no code with honnx or ONNX Runtime. Its 8-bit activations and float16 cache differ
 * from ONNX Runtime's float32 arithmetic, so agreement is measured, not assumed bit-exact.
 */
describe.each(['qwen3-0.6b', 'llama-3.2-1b'])('%s (reduced) q4 against llama.cpp on the same weights', (presetName) => {
  const root = mkdtempSync(join(tmpdir(), 'honnx-gguf-'));
  const folder = join(root, presetName);
  const ggufPath = join(root, `${presetName}-q4_0.gguf`);
  const { shape } = applyOverrides(findPreset(presetName), reduced);
  let llama: Llama;
  beforeAll(async () => {
    await synthesizeModel({ preset: presetName, outputFolder: folder, variant: 'q4', ...reduced });
    await writeGgufModel(ggufPath, { preset: findPreset(presetName), shape, seed: 42 });
    llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  }, 120_000);
  afterAll(async () => {
    await llama?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  const openLlamaSequence = async () => {
    const model = await llama.loadModel({ modelPath: ggufPath });
    const context = await model.createContext({ contextSize: 512, batchSize: 512, threads: 1 });
    return { model, sequence: context.getSequence() };
  };

  it(`predicts the same next token at >= 99% of ${POSITIONS} teacher-forced positions`, async () => {
    const ids = drawTokenIds(POSITIONS, 120_000);
    const bundle = await loadModelBundle(createFolderModelFiles(folder), createNodeEngine({ threads: 1 }), { variant: 'q4' });
    const session = await bundle.openSession();
    const feeds: Feeds = {
      input_ids: { type: 'int64', data: BigInt64Array.from(ids, BigInt), dims: [1, POSITIONS] },
      attention_mask: { type: 'int64', data: new BigInt64Array(POSITIONS).fill(1n), dims: [1, POSITIONS] },
      position_ids: { type: 'int64', data: BigInt64Array.from(ids, (_, index) => BigInt(index)), dims: [1, POSITIONS] },
    };
    for (let layer = 0; layer < shape.layers; layer++) {
      for (const kind of ['key', 'value']) feeds[`past_key_values.${layer}.${kind}`] = { type: 'float32', data: new Float32Array(0), dims: [1, shape.keyValueHeads, 0, shape.headDimension] };
    }
    const honnxTop = argmaxRows((await session.run(feeds, ['logits'])).logits.data as Float32Array, shape.vocabularySize);
    await session.release();

    const { model, sequence } = await openLlamaSequence();
    const results = await sequence.controlledEvaluate(ids.map((id) => [id as Token, { generateNext: { token: true } }]));
    const llamaTop = results.map((result) => result?.next.token);
    await model.dispose();

    const agreeing = honnxTop.filter((id, position) => id === llamaTop[position]).length;
    console.log(`${presetName}: teacher-forced top-1 agreement with llama.cpp ${agreeing}/${POSITIONS}`);
    expect(agreeing / POSITIONS).toBeGreaterThanOrEqual(0.99);
    // Not only echoes of the token just read (random tied weights lean that way; see decoder-weights.ts).
    expect(honnxTop.filter((id, position) => id !== ids[position]).length).toBeGreaterThan(POSITIONS / 8);
  }, 120_000);

  it(`continues a prompt greedily with the same ${CONTINUATION} tokens as honnx generate`, async () => {
    const generator = await createTextGenerator(await loadModelBundle(createFolderModelFiles(folder), createNodeEngine({ threads: 1 }), { variant: 'q4' }));
    const text = 'The quick brown fox jumps over the lazy dog. Once upon a time, in a land far away';
    const promptIds = generator.tokenizer.encode(text, { addSpecialTokens: true }).ids;
    const honnx = await generateText(generator, { text, addSpecialTokens: true }, { maxNewTokens: CONTINUATION, doSample: false, eosTokenIds: [] });
    await generator.model.release();

    const { model, sequence } = await openLlamaSequence();
    const continuation: number[] = [];
    let input = promptIds;
    while (continuation.length < CONTINUATION) {
      const items = input.map((id, index): ControlledEvaluateInputItem => (index === input.length - 1 ? [id as Token, { generateNext: { token: true } }] : (id as Token)));
      const next = (await sequence.controlledEvaluate(items)).at(-1)!.next.token! as number;
      continuation.push(next);
      input = [next];
    }
    await model.dispose();
    expect(honnx.tokenIds).toHaveLength(CONTINUATION);
    expect(continuation).toEqual(honnx.tokenIds);
  }, 120_000);
});
