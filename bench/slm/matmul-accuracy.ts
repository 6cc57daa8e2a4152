import { loadavg } from 'node:os';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { createModel, encodeModel, GraphBuilder } from '../../src/onnx/index.ts';

/*
 * MatMulNBits accuracy_level 0 (float32 compute) against 4 (int8 activations) on onnxruntime-node and on
 * onnxruntime-web's WASM build (what Workers run), on a stack of q4 block-32 MatMulNBits of an SLM's MLP shapes
 * (1024 → 3072 → 1024, as Qwen3-0.6B), so that only the kernel differs. It says whether setting the level at load
 * pays on each engine. Figures, not assertions.
 *   node bin/run-ts.mjs bench/slm/matmul-accuracy.ts [pairs, default 8] [runs, default 20]
 */
const pairs = Number(process.argv[2] ?? 8);
const runs = Number(process.argv[3] ?? 20);
const hidden = 1024;
const intermediate = 3072;
const BLOCK = 32;

function random(seed: number): () => number {
  let state = seed;
  return () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

function buildStack(accuracyLevel: 0 | 4): Uint8Array {
  const graph = new GraphBuilder('matmul_stack');
  const next = random(7);
  let x = graph.addInput('x', 'float32', ['rows', hidden]);
  const linear = (input: string, k: number, n: number, index: number) => {
    const blocks = k / BLOCK;
    const packed = graph.addInitializer(`w${index}_q4`, Uint8Array.from({ length: n * blocks * (BLOCK / 2) }, () => Math.floor(next() * 256)), [n, blocks, BLOCK / 2], 'uint8');
    const scales = graph.addInitializer(`w${index}_scales`, Float32Array.from({ length: n * blocks }, () => 0.01 + next() * 0.01), [n * blocks]);
    const attributes: Record<string, number> = { K: k, N: n, bits: 4, block_size: BLOCK };
    if (accuracyLevel) attributes.accuracy_level = accuracyLevel;
    return graph.op('MatMulNBits', [input, packed, scales], attributes, { domain: 'com.microsoft' });
  };
  for (let pair = 0; pair < pairs; pair++) x = linear(linear(x, hidden, intermediate, 2 * pair), intermediate, hidden, 2 * pair + 1);
  graph.addOutput(x, 'float32', ['rows', hidden]);
  return encodeModel(createModel(graph.build(), { opsets: { '': 17, 'com.microsoft': 1 } }));
}

type Ort = typeof ortNode | typeof ortWeb;

async function time(ort: Ort, bytes: Uint8Array, rows: number, options: Record<string, unknown>): Promise<number> {
  const session = await (ort.InferenceSession.create as (model: Uint8Array, options: unknown) => Promise<ortNode.InferenceSession>)(bytes, options);
  const x = new (ort.Tensor as typeof ortNode.Tensor)('float32', Float32Array.from({ length: rows * hidden }, (_, index) => Math.sin(index)), [rows, hidden]);
  await session.run({ x });
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await session.run({ x });
    times.push(performance.now() - started);
  }
  await session.release();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

ortWeb.env.wasm.numThreads = 1;
ortWeb.env.wasm.proxy = false;
const models = { 0: buildStack(0), 4: buildStack(4) };
console.log(`${pairs} × (${hidden}→${intermediate}→${hidden}) q4 MatMulNBits, ${(models[0].byteLength / 1e6).toFixed(0)} MB; median of ${runs} runs; load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
const engines: [string, Ort, Record<string, unknown>][] = [
  ['onnxruntime-node, 1 thread', ortNode, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 }],
  ['onnxruntime-web wasm, 1 thread', ortWeb, { executionProviders: ['wasm'] }],
];
for (const [name, ort, options] of engines) {
  for (const rows of [1, 64]) {
    const zero = await time(ort, models[0], rows, options);
    const four = await time(ort, models[4], rows, options);
    console.log(`${name}, ${rows} row${rows > 1 ? 's' : ''}: accuracy_level 0 ${zero.toFixed(2)} ms, 4 ${four.toFixed(2)} ms: ${(zero / four).toFixed(2)}× faster at 4`);
  }
}
