import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine, Feeds } from '../../src/engine/engine.ts';
import { readInt8MatMulSetting } from '../../src/engine/rewrite-settings.ts';
import { rewriteGraph } from '../../src/engine/rewrite-graph.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { decodeModel, readAttribute, type ModelProto, type NodeProto } from '../../src/onnx/index.ts';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';

const reduced = { preset: 'qwen3-0.6b', variant: 'q4', layers: 2, hiddenSize: 64 } as const;
const KEY_VALUE_HEADS = 8;
const HEAD_DIMENSION = 8;

function matMulNBits(model: ModelProto): NodeProto[] {
  return (model.graph?.node ?? []).filter((node) => node.op_type === 'MatMulNBits');
}

function accuracyLevel(node: NodeProto): number {
  const attribute = node.attribute?.find((item) => item.name === 'accuracy_level');
  return attribute ? Number(readAttribute(attribute)) : 0;
}

const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
// Large arrays are compared by their bytes: vitest's element-wise equality (and its diff) takes minutes on 760k floats.
const bytesOf = (array: ArrayBufferView) => createHash('sha256').update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength)).digest('hex');

/** The logits of a 5-token prompt through one session of `engine` on `path`, as a digest of their bytes. */
async function runLogits(engine: Engine, path: string): Promise<string> {
  const ids = [11n, 2_000n, 35_000n, 7n, 99_999n];
  const feeds: Feeds = {
    input_ids: { type: 'int64', data: BigInt64Array.from(ids), dims: [1, ids.length] },
    attention_mask: { type: 'int64', data: new BigInt64Array(ids.length).fill(1n), dims: [1, ids.length] },
    position_ids: { type: 'int64', data: BigInt64Array.from(ids, (_, index) => BigInt(index)), dims: [1, ids.length] },
  };
  for (let layer = 0; layer < reduced.layers; layer++) {
    for (const kind of ['key', 'value']) feeds[`past_key_values.${layer}.${kind}`] = { type: 'float32', data: new Float32Array(0), dims: [1, KEY_VALUE_HEADS, 0, HEAD_DIMENSION] };
  }
  const session = await engine.createSession(path);
  try {
    return bytesOf((await session.run(feeds, ['logits'])).logits.data);
  } finally {
    await session.release();
  }
}

describe('int8 MatMulNBits at load (onnxruntime-node)', () => {
  const root = mkdtempSync(join(tmpdir(), 'honnx-int8-matmul-'));
  // The same seed and weights three ways: as hub exports ship them (no accuracy_level), with the weights in
  // `model_q4.onnx_data`, and exported with accuracy_level 4 (the reference the rewrite must compute like).
  const plain = join(root, 'plain', 'onnx', 'model_q4.onnx');
  const external = join(root, 'external', 'onnx', 'model_q4.onnx');
  const exportedAtFour = join(root, 'level4', 'onnx', 'model_q4.onnx');
  beforeAll(async () => {
    await synthesizeModel({ ...reduced, outputFolder: join(root, 'plain') });
    await synthesizeModel({ ...reduced, outputFolder: join(root, 'external'), externalData: true });
    await synthesizeModel({ ...reduced, outputFolder: join(root, 'level4'), accuracyLevel: 4 });
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('serves a graph whose every MatMulNBits carries accuracy_level 4, its weights read from the untouched original', async () => {
    const before = digest(plain);
    const filesBefore = readdirSync(join(root, 'plain', 'onnx'));
    const original = decodeModel(readFileSync(plain));
    expect(matMulNBits(original).length).toBeGreaterThan(0);
    expect(matMulNBits(original).every((node) => accuracyLevel(node) === 0)).toBe(true);

    const rewritten = rewriteGraph(plain, { int8MatMul: true })!;
    expect(rewritten.int8MatMulNodes).toBe(matMulNBits(original).length);
    const served = decodeModel(rewritten.bytes);
    expect(matMulNBits(served).map(accuracyLevel)).toEqual(matMulNBits(original).map(() => 4));
    // Only the structure is held: the weights stay in the original file, referenced where they lie.
    expect(rewritten.bytes.byteLength).toBeLessThan(readFileSync(plain).byteLength / 100);
    const originalBytes = readFileSync(plain);
    const originalTensors = new Map((original.graph?.initializer ?? []).map((tensor) => [tensor.name, tensor]));
    let referenced = 0;
    for (const tensor of served.graph?.initializer ?? []) {
      const entries = Object.fromEntries((tensor.external_data ?? []).map(({ key, value }) => [key, value]));
      if (!entries.location) continue;
      referenced++;
      expect(entries.location).toBe('model_q4.onnx');
      const [offset, length] = [Number(entries.offset), Number(entries.length)];
      expect(bytesOf(originalBytes.subarray(offset, offset + length))).toBe(bytesOf(originalTensors.get(tensor.name)!.raw_data!));
    }
    // Every initializer of 4 KB or more (readModelOutline's default) is left in the file; smaller ones are kept inline.
    const large = (original.graph?.initializer ?? []).filter((tensor) => (tensor.raw_data?.byteLength ?? 0) >= 4096);
    expect(large.length).toBeGreaterThan(5);
    expect(referenced).toBe(large.length);

    await runLogits(createNodeEngine({ threads: 1, int8MatMul: true }), plain);
    expect(digest(plain)).toBe(before);
    expect(readdirSync(join(root, 'plain', 'onnx'))).toEqual(filesBefore);
  }, 60_000);

  it('computes as the same weights exported with accuracy_level 4 do, in one file or with external data', async () => {
    const reference = await runLogits(createNodeEngine({ threads: 1, int8MatMul: false }), exportedAtFour);
    const asExported = await runLogits(createNodeEngine({ threads: 1, int8MatMul: false }), plain);
    // The two computations differ (else this test could not tell them apart).
    expect(asExported).not.toBe(reference);
    expect(await runLogits(createNodeEngine({ threads: 1, int8MatMul: true }), plain)).toBe(reference);
    expect(await runLogits(createNodeEngine({ threads: 1, int8MatMul: true }), external)).toBe(reference);
  }, 60_000);

  it('is off by default; HONNX_INT8_MATMUL=1 turns it on, and a session option or the engine option wins', async () => {
    const reference = await runLogits(createNodeEngine({ threads: 1, int8MatMul: false }), exportedAtFour);
    const asExported = await runLogits(createNodeEngine({ threads: 1, int8MatMul: false }), plain);
    expect(await runLogits(createNodeEngine({ threads: 1 }), plain)).toBe(asExported);
    process.env.HONNX_INT8_MATMUL = '1';
    try {
      const engine = createNodeEngine({ threads: 1 });
      expect(await runLogits(engine, plain)).toBe(reference);
      const sessionOff: Engine = { ...engine, createSession: (model, options) => engine.createSession(model, { ...options, int8MatMul: false }) };
      expect(await runLogits(sessionOff, plain)).toBe(asExported);
      expect(await runLogits(createNodeEngine({ threads: 1, int8MatMul: false }), plain)).toBe(asExported);
    } finally {
      delete process.env.HONNX_INT8_MATMUL;
    }
  }, 60_000);

  it('leaves a graph alone when every MatMulNBits already has a level', () => {
    expect(rewriteGraph(exportedAtFour, { int8MatMul: true })).toBeUndefined();
  });

  it('reads HONNX_INT8_MATMUL as off by default, 1 or 0, and refuses anything else', () => {
    expect(readInt8MatMulSetting({})).toBe(false);
    expect(readInt8MatMulSetting({ HONNX_INT8_MATMUL: '1' })).toBe(true);
    expect(readInt8MatMulSetting({ HONNX_INT8_MATMUL: 'false' })).toBe(false);
    expect(() => readInt8MatMulSetting({ HONNX_INT8_MATMUL: 'fast' })).toThrow(/HONNX_INT8_MATMUL must be 1 or 0/);
  });
});
