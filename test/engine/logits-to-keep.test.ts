import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, EngineSession, Feeds } from '../../src/engine/engine.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { rewriteGraph } from '../../src/engine/rewrite-graph.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { addLogitsToKeep, decodeModel } from '../../src/onnx/index.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { tinyModelPath } from '../fixtures/tiny-models.ts';

const VOCABULARY = 151_936;
const ids = [11n, 2_000n, 35_000n, 7n, 99_999n];

function prefillFeeds(): Feeds {
  const feeds: Feeds = {
    input_ids: { type: 'int64', data: BigInt64Array.from(ids), dims: [1, ids.length] },
    attention_mask: { type: 'int64', data: new BigInt64Array(ids.length).fill(1n), dims: [1, ids.length] },
    position_ids: { type: 'int64', data: BigInt64Array.from(ids, (_, index) => BigInt(index)), dims: [1, ids.length] },
  };
  for (let layer = 0; layer < 2; layer++) {
    for (const kind of ['key', 'value']) feeds[`past_key_values.${layer}.${kind}`] = { type: 'float32', data: new Float32Array(0), dims: [1, 8, 0, 8] };
  }
  return feeds;
}

const keep = (count: bigint): Feeds => ({ logits_to_keep: { type: 'int64', data: BigInt64Array.of(count), dims: [] } });

describe('logits_to_keep added at load to optimum causal LMs (onnxruntime-node)', () => {
  const root = mkdtempSync(join(tmpdir(), 'honnx-logits-to-keep-'));
  const path = join(root, 'onnx', 'model_q4.onnx');
  beforeAll(() => synthesizeModel({ preset: 'qwen3-0.6b', variant: 'q4', layers: 2, hiddenSize: 64, outputFolder: root }), 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('computes the last positions alone, with the logits of a full run; 0 keeps every position', async () => {
    const engine = createNodeEngine({ threads: 1 });
    const original = await engine.createSession(path);
    const full = (await original.run(prefillFeeds(), ['logits'])).logits;
    await original.release();
    const session = await engine.createSession(path, { logitsToKeep: true });
    expect(session.inputs.map((input) => input.name)).toContain('logits_to_keep');
    const last = (await session.run({ ...prefillFeeds(), ...keep(1n) }, ['logits'])).logits;
    const lastTwo = (await session.run({ ...prefillFeeds(), ...keep(2n) }, ['logits'])).logits;
    const every = (await session.run({ ...prefillFeeds(), ...keep(0n) }, ['logits'])).logits;
    await session.release();
    expect(full.dims).toEqual([1, ids.length, VOCABULARY]);
    expect(last.dims).toEqual([1, 1, VOCABULARY]);
    expect(lastTwo.dims).toEqual([1, 2, VOCABULARY]);
    expect(every.dims).toEqual(full.dims);
    // One row through the lm_head may round differently from five; the values are the same to float32 noise.
    const fullData = full.data as Float32Array;
    const lastRow = fullData.subarray((ids.length - 1) * VOCABULARY);
    let largest = 0;
    for (let index = 0; index < VOCABULARY; index++) largest = Math.max(largest, Math.abs((last.data as Float32Array)[index] - lastRow[index]));
    expect(largest).toBeLessThan(1e-3);
    expect(Buffer.from((every.data as Float32Array).buffer).equals(Buffer.from(fullData.buffer))).toBe(true);
  }, 60_000);

  it('is what the generate task opens, with the same greedy tokens as the graph as exported', async () => {
    const opened: EngineSession[] = [];
    const recording = (engine: Engine, force?: boolean): Engine => ({
      ...engine,
      async createSession(model, options) {
        const session = await engine.createSession(model, force === undefined ? options : { ...options, logitsToKeep: force });
        opened.push(session);
        return session;
      },
    });
    const generate = async (engine: Engine) => {
      const generator = await createTextGenerator(await loadModelBundle(createFolderModelFiles(root), engine, { variant: 'q4' }));
      const text = 'The quick brown fox jumps over the lazy dog. Once upon a time';
      const answer = await generateText(generator, { text, addSpecialTokens: true }, { maxNewTokens: 24, doSample: false, eosTokenIds: [] });
      await generator.model.release();
      return answer.tokenIds;
    };
    const rewritten = await generate(recording(createNodeEngine({ threads: 1 })));
    expect(opened.at(-1)!.inputs.map((input) => input.name)).toContain('logits_to_keep');
    const asExported = await generate(recording(createNodeEngine({ threads: 1 }), false));
    expect(opened.at(-1)!.inputs.map((input) => input.name)).not.toContain('logits_to_keep');
    expect(rewritten).toHaveLength(24);
    expect(rewritten).toEqual(asExported);
  }, 60_000);

  it('leaves graphs that are no optimum causal LM, or have the input, alone', () => {
    expect(rewriteGraph(join(tinyModelPath('tiny-bert-sequence-classification'), 'onnx', 'model.onnx'), { logitsToKeep: true })).toBeUndefined();
    const added = rewriteGraph(path, { logitsToKeep: true })!;
    expect(added.logitsToKeep).toBe(true);
    const model = decodeModel(added.bytes);
    expect((model.graph?.input ?? []).filter((input) => input.name === 'logits_to_keep')).toHaveLength(1);
    expect(addLogitsToKeep(model)).toBe(false);
  });
});
