import { beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import { quantizeModel } from '../../src/models/quantize/quantize-model.ts';
import { quantizeBlocks4Bit, quantizeColumnsUint8, quantizeRowsInt8 } from '../../src/models/quantize/weight-quantization.ts';
import { GraphBuilder, createModel } from '../../src/onnx/graph-builder.ts';
import { decodeModel, encodeModel } from '../../src/onnx/onnx-codec.ts';
import { readInitializer } from '../../src/onnx/tensor-data.ts';
import { enginesUnderTest } from '../support/engines.ts';

/** A seeded generator (mulberry32), so every run quantizes the same numbers. */
function randomValues(count: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  });
}

/**
 * Unpacks MatMulNBits weights following the operator's documentation (onnxruntime ContribOperators.md):
 * B is [N, k_blocks, block_size/2] with the first of two values in the low nibble, zero points are packed the
 * same way along the blocks of a column, and w = (q - zero_point) · scale. Written here, not taken from honnx.
 */
function dequantizeMatMulNBits(packed: Uint8Array, scales: Float32Array, zeroPoints: Uint8Array, rows: number, columns: number, blockSize: number): Float32Array {
  const blocks = Math.ceil(rows / blockSize);
  const zeroPointBytes = Math.ceil(blocks / 2);
  const weights = new Float32Array(rows * columns);
  for (let n = 0; n < columns; n++) {
    for (let k = 0; k < rows; k++) {
      const block = Math.floor(k / blockSize);
      const withinBlock = k % blockSize;
      const byte = packed[(n * blocks + block) * (blockSize / 2) + Math.floor(withinBlock / 2)];
      const quantized = withinBlock % 2 === 0 ? byte & 0x0f : byte >> 4;
      const zeroByte = zeroPoints[n * zeroPointBytes + Math.floor(block / 2)];
      const zeroPoint = block % 2 === 0 ? zeroByte & 0x0f : zeroByte >> 4;
      weights[k * columns + n] = (quantized - zeroPoint) * scales[n * blocks + block];
    }
  }
  return weights;
}

function multiply(a: Float32Array, b: Float32Array, rows: number, inner: number, columns: number): Float32Array {
  const result = new Float32Array(rows * columns);
  for (let i = 0; i < rows; i++) for (let k = 0; k < inner; k++) for (let j = 0; j < columns; j++) result[i * columns + j] += a[i * inner + k] * b[k * columns + j];
  return result;
}

const maxAbs = (values: Float32Array) => values.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
const maxDifference = (a: Float32Array, b: Float32Array) => a.reduce((largest, value, index) => Math.max(largest, Math.abs(value - b[index])), 0);

describe('weight quantization arithmetic', () => {
  it('uint8 per-column: every weight within half a step, and zero exact', () => {
    const weights = randomValues(48 * 20, 1);
    weights[5] = 0;
    const { values, scales, zeroPoints } = quantizeColumnsUint8(weights, 48, 20);
    for (let index = 0; index < weights.length; index++) {
      const column = index % 20;
      expect(Math.abs((values[index] - zeroPoints[column]) * scales[column] - weights[index])).toBeLessThanOrEqual(scales[column] / 2 + 1e-7);
    }
    expect((values[5] - zeroPoints[5]) * scales[5]).toBe(0);
  });

  it('int8 per-row: every value within half a step of its row', () => {
    const table = randomValues(30 * 16, 2, 3);
    const { values, scales } = quantizeRowsInt8(table, 30, 16);
    for (let index = 0; index < table.length; index++) {
      const row = Math.floor(index / 16);
      expect(Math.abs(values[index] * scales[row] - table[index])).toBeLessThanOrEqual(scales[row] / 2 + 1e-7);
    }
  });

  it('4-bit blocks: the documented MatMulNBits layout decodes to within half a step, partial last block included', () => {
    const rows = 80; // two full blocks of 32 and a partial one of 16
    const weights = randomValues(rows * 6, 3);
    const { packed, scales, zeroPoints, blockCount } = quantizeBlocks4Bit(weights, rows, 6, 32);
    expect(blockCount).toBe(3);
    expect(packed.byteLength).toBe(6 * 3 * 16);
    const decoded = dequantizeMatMulNBits(packed, scales, zeroPoints, rows, 6, 32);
    for (let index = 0; index < weights.length; index++) {
      const scale = scales[(index % 6) * 3 + Math.floor(Math.floor(index / 6) / 32)];
      expect(Math.abs(decoded[index] - weights[index])).toBeLessThanOrEqual(scale / 2 + 1e-6);
    }
  });
});

/**
 * y = x · W; z = 0.5 · (x · Vᵀ) + 2 · c; e = Gather(E, ids): one MatMul, one Gemm with transB, alpha, beta and
 * a bias, and one embedding lookup, the three shapes the quantizer rewrites.
 */
function buildLinearModel() {
  const graph = new GraphBuilder('linear');
  const x = graph.addInput('x', 'float32', ['batch', 80]);
  const ids = graph.addInput('ids', 'int64', ['batch', 3]);
  const weights = { W: randomValues(80 * 24, 11), V: randomValues(16 * 80, 12), c: randomValues(16, 13), E: randomValues(50 * 8, 14, 2) };
  graph.addNode('MatMul', [x, graph.addInitializer('W', weights.W, [80, 24])], ['y']);
  graph.addNode('Gemm', [x, graph.addInitializer('V', weights.V, [16, 80]), graph.addInitializer('c', weights.c, [16])], ['z'], { transB: 1, alpha: 0.5, beta: { float: 2 } });
  graph.addNode('Gather', [graph.addInitializer('E', weights.E, [50, 8]), ids], ['e'], { axis: 0 });
  graph.addOutput('y', 'float32', ['batch', 24]);
  graph.addOutput('z', 'float32', ['batch', 16]);
  graph.addOutput('e', 'float32', ['batch', 3, 8]);
  return { bytes: encodeModel(createModel(graph.build(), { opsets: { '': 17 } })), weights };
}

const transposeMatrix = (values: Float32Array, rows: number, columns: number) =>
  Float32Array.from({ length: values.length }, (_, index) => values[(index % rows) * columns + Math.floor(index / rows)]);

describe.each(enginesUnderTest)('quantized operators on $name', (engineUnderTest) => {
  let engine: Engine;
  beforeAll(() => {
    engine = engineUnderTest.create();
  });

  const { bytes, weights } = buildLinearModel();
  const x = randomValues(4 * 80, 21);
  const ids = BigInt64Array.from([0n, 7n, 49n, 3n, 3n, 20n, 11n, 48n, 1n, 2n, 30n, 45n]);
  const run = async (model: Uint8Array) => {
    const session = await engine.createSession(model);
    const outputs = await session.run({ x: { type: 'float32', data: x, dims: [4, 80] }, ids: { type: 'int64', data: ids, dims: [4, 3] } });
    await session.release();
    return { y: outputs.y.data as Float32Array, z: outputs.z.data as Float32Array, e: outputs.e.data as Float32Array };
  };
  const everything = { minWeightElements: 0, minEmbeddingElements: 0 };
  const exact = {
    y: multiply(x, weights.W, 4, 80, 24),
    z: multiply(x, transposeMatrix(weights.V, 16, 80), 4, 80, 16).map((value, index) => 0.5 * value + 2 * weights.c[index % 16]),
    e: Float32Array.from(Array.from(ids, (id) => Array.from(weights.E.subarray(Number(id) * 8, Number(id) * 8 + 8))).flat()),
  };

  it('q4: MatMulNBits computes x · dequantized(W), as the operator documentation defines it', async () => {
    const { model, decisions } = quantizeModel(decodeModel(bytes), { mode: 'q4', blockSize: 32, ...everything });
    expect(decisions.map((decision) => [decision.opType, decision.changed])).toEqual([
      ['MatMul', true],
      ['Gemm', true],
      ['Gather', true],
    ]);
    const graph = model.graph!;
    const read = (name: string) => readInitializer(graph, name);
    const dequantizedW = dequantizeMatMulNBits(read('W_q4') as Uint8Array, read('W_q4_scales') as Float32Array, read('W_q4_zero_points') as Uint8Array, 80, 24, 32);
    const outputs = await run(encodeModel(model));
    const reference = multiply(x, dequantizedW, 4, 80, 24);
    expect(maxDifference(outputs.y, reference)).toBeLessThan(1e-4 * maxAbs(reference) + 1e-5);
    // And within what rounding allows of the float model: each weight moves at most half its block's step.
    const withinRounding = (output: Float32Array, expected: Float32Array, scales: Float32Array, columns: number) => {
      for (let row = 0; row < 4; row++) {
        for (let column = 0; column < columns; column++) {
          let bound = 1e-4;
          for (let k = 0; k < 80; k++) bound += (Math.abs(x[row * 80 + k]) * scales[column * 3 + Math.floor(k / 32)]) / 2;
          expect(Math.abs(output[row * columns + column] - expected[row * columns + column])).toBeLessThanOrEqual(bound);
        }
      }
    };
    withinRounding(outputs.y, exact.y, read('W_q4_scales') as Float32Array, 24);
    // The Gemm's alpha = 0.5 is folded into its scales; its bias is added exactly.
    withinRounding(outputs.z, exact.z, read('V_q4_scales') as Float32Array, 16);
    expect(maxDifference(outputs.e, exact.e)).toBeLessThan(0.01 * maxAbs(exact.e));
  });

  it('int8: DynamicQuantizeLinear + MatMulInteger stay within 1% of the float products', async () => {
    const { model } = quantizeModel(decodeModel(bytes), { mode: 'int8', ...everything });
    const operators = new Set(model.graph!.node!.map((node) => node.op_type));
    expect([...operators].sort()).toEqual(['Cast', 'DynamicQuantizeLinear', 'Gather', 'MatMulInteger', 'Mul', 'Add'].sort());
    // x feeds both the MatMul and the Gemm: it is quantized once.
    expect(model.graph!.node!.filter((node) => node.op_type === 'DynamicQuantizeLinear')).toHaveLength(1);
    const outputs = await run(encodeModel(model));
    expect(maxDifference(outputs.y, exact.y)).toBeLessThan(0.01 * maxAbs(exact.y));
    expect(maxDifference(outputs.z, exact.z)).toBeLessThan(0.01 * maxAbs(exact.z));
    expect(maxDifference(outputs.e, exact.e)).toBeLessThan(0.01 * maxAbs(exact.e));
  });

  it('leaves small weights, run-time operands and excluded nodes alone, and says why', async () => {
    const { model, decisions } = quantizeModel(decodeModel(bytes), { mode: 'int8', exclude: ['Gemm'] });
    const reasons = Object.fromEntries(decisions.map((decision) => [decision.opType, decision]));
    expect(reasons.MatMul.changed).toBe(true);
    expect(reasons.Gemm).toMatchObject({ changed: false, detail: 'excluded by --exclude' });
    expect(reasons.Gather).toMatchObject({ changed: false, detail: 'its table is small (400 values < 65,536), so it saves little' });
    // The float W is gone; the kept V, c and E are still there.
    const names = model.graph!.initializer!.map((tensor) => tensor.name);
    expect(names).not.toContain('W');
    expect(names).toEqual(expect.arrayContaining(['V', 'c', 'E']));
    const outputs = await run(encodeModel(model));
    expect(maxDifference(outputs.z, exact.z)).toBeLessThan(1e-5 * maxAbs(exact.z));
  });
});
