import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { encodeModel, GraphBuilder, createModel } from '../../src/onnx/index.ts';

/**
 * A stand-in for one decode step of q4 qwen3-0.6b, the model issue 17 sizes the mask against: its 28 layers' seven
 * projections (q 1024→2048, k and v 1024→1024, o 2048→1024, gate and up 1024→3072, down 3072→1024) and its head
 * (1024→151,936), each a 4-bit MatMulNBits (blocks of 32) with random weights, on one token. Attention, norms
 * and activations are left out, so a real step costs more: the ratios printed against it are upper bounds.
 */
const HIDDEN = 1024;
const BLOCK = 32;

function randomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

function addProjection(graph: GraphBuilder, input: string, inputSize: number, outputSize: number, seed: number): string {
  const blocks = inputSize / BLOCK;
  const weights = graph.addInitializer(graph.freshName('weights'), randomBytes(outputSize * blocks * (BLOCK / 2), seed), [outputSize, blocks, BLOCK / 2], 'uint8');
  const scales = graph.addInitializer(graph.freshName('scales'), new Float32Array(outputSize * blocks).fill(0.001), [outputSize * blocks]);
  return graph.op('MatMulNBits', [input, weights, scales], { K: inputSize, N: outputSize, bits: 4, block_size: BLOCK }, { domain: 'com.microsoft' });
}

function buildDecodeStep(layers: number, vocabulary: number): Uint8Array {
  const graph = new GraphBuilder('decode_step');
  const hidden = graph.addInput('hidden', 'float32', [1, HIDDEN]);
  let seed = 1;
  let layerInput = hidden;
  for (let layer = 0; layer < layers; layer++) {
    const project = (input: string, inputSize: number, outputSize: number) => addProjection(graph, input, inputSize, outputSize, seed++);
    const query = project(layerInput, HIDDEN, 2048);
    project(layerInput, HIDDEN, 1024);
    project(layerInput, HIDDEN, 1024);
    const attended = project(query, 2048, HIDDEN);
    project(attended, HIDDEN, 3072);
    const up = project(attended, HIDDEN, 3072);
    layerInput = project(up, 3072, HIDDEN);
  }
  graph.addOutput(addProjection(graph, layerInput, HIDDEN, vocabulary, seed), 'float32', [1, vocabulary]);
  return encodeModel(createModel(graph.build(), { opsets: { '': 17, 'com.microsoft': 1 } }));
}

/** Milliseconds per run of the stand-in step (median of `runs`), on one onnxruntime-node thread as honnx's node engine runs. */
export async function measureDecodeStep(vocabulary: number, runs: number, layers = 28): Promise<number> {
  const engine = createNodeEngine({ threads: 1 });
  const session = await engine.createSession(buildDecodeStep(layers, vocabulary));
  const feeds = { hidden: { type: 'float32' as const, data: new Float32Array(HIDDEN).fill(0.01), dims: [1, HIDDEN] } };
  await session.run(feeds);
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    await session.run(feeds);
    times.push(performance.now() - start);
  }
  await session.release();
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}
