import { getLlama, LlamaLogLevel, type ControlledEvaluateInputItem, type Llama, type Token } from 'node-llama-cpp';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import type { Feeds } from '../../src/engine/engine.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import type { SynthVariant } from '../../src/models/synth/decoder-graph.ts';
import type { DecoderShape } from '../../src/models/synth/synth-presets.ts';

/** Token ids drawn from a fixed LCG among ordinary vocabulary entries: the same sequence every run. */
export function drawTokenIds(count: number, below: number): number[] {
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

/** llama.cpp's CPU build from node-llama-cpp's prebuilt binaries; never compiles, never uses a GPU. */
export function openLlamaCpp(): Promise<Llama> {
  return getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
}

export async function openLlamaSequence(llama: Llama, ggufPath: string, threads = 1) {
  const model = await llama.loadModel({ modelPath: ggufPath });
  const context = await model.createContext({ contextSize: 512, batchSize: 512, threads });
  return { model, sequence: context.getSequence() };
}

export interface TeacherForcedAgreement {
  positions: number;
  agreeing: number;
  /** Positions whose predicted token is not the token just read. */
  notEchoes: number;
  /**
   * Where the two disagree, how far llama.cpp's token is below honnx's top token in honnx's logits, in standard
   * deviations of that position's logits: the largest such gap (0 when they always agree). A near-tie is a small one.
   */
  largestDisagreementGap: number;
}

/** How far `token` lies below the row's top logit, in standard deviations of the row. */
function measureGap(logits: Float32Array, vocabulary: number, position: number, top: number, token: number): number {
  const row = logits.subarray(position * vocabulary, (position + 1) * vocabulary);
  let mean = 0;
  for (const value of row) mean += value / vocabulary;
  let variance = 0;
  for (const value of row) variance += (value - mean) ** 2 / vocabulary;
  return (row[top] - row[token]) / Math.sqrt(variance);
}

/**
 * Next-token top-1 at every position of `ids`, from one prefill through honnx's engine session (the folder's
 * `variant` graph) and one through llama.cpp on `ggufPath`, and how often they agree.
 */
export async function measureTeacherForcedAgreement(options: {
  folder: string;
  variant: SynthVariant;
  ggufPath: string;
  shape: DecoderShape;
  ids: readonly number[];
  llama: Llama;
  threads?: number;
  /** MatMulNBits with int8 activations, set at load (the engine's `int8MatMul`). */
  int8MatMul?: boolean;
}): Promise<TeacherForcedAgreement> {
  const { shape, ids } = options;
  const engine = createNodeEngine({ threads: options.threads ?? 1, int8MatMul: options.int8MatMul ?? false });
  const bundle = await loadModelBundle(createFolderModelFiles(options.folder), engine, { variant: options.variant });
  const session = await bundle.openSession();
  const count = ids.length;
  const feeds: Feeds = {
    input_ids: { type: 'int64', data: BigInt64Array.from(ids, BigInt), dims: [1, count] },
    attention_mask: { type: 'int64', data: new BigInt64Array(count).fill(1n), dims: [1, count] },
    position_ids: { type: 'int64', data: BigInt64Array.from(ids, (_, index) => BigInt(index)), dims: [1, count] },
  };
  for (let layer = 0; layer < shape.layers; layer++) {
    for (const kind of ['key', 'value']) feeds[`past_key_values.${layer}.${kind}`] = { type: 'float32', data: new Float32Array(0), dims: [1, shape.keyValueHeads, 0, shape.headDimension] };
  }
  const logits = (await session.run(feeds, ['logits'])).logits.data as Float32Array;
  const honnxTop = argmaxRows(logits, shape.vocabularySize);
  await session.release();

  const { model, sequence } = await openLlamaSequence(options.llama, options.ggufPath, options.threads);
  const results = await sequence.controlledEvaluate(ids.map((id): ControlledEvaluateInputItem => [id as Token, { generateNext: { token: true } }]));
  const llamaTop = results.map((result) => result?.next.token);
  await model.dispose();
  return {
    positions: count,
    agreeing: honnxTop.filter((id, position) => id === llamaTop[position]).length,
    notEchoes: honnxTop.filter((id, position) => id !== ids[position]).length,
    largestDisagreementGap: Math.max(
      0,
      ...honnxTop.map((id, position) => (id === llamaTop[position] ? 0 : measureGap(logits, shape.vocabularySize, position, id, llamaTop[position] as number))),
    ),
  };
}

/** llama.cpp's greedy continuation of `promptIds`, one token per evaluation, as a decode loop runs. */
export async function continueGreedily(llama: Llama, ggufPath: string, promptIds: readonly number[], count: number): Promise<number[]> {
  const { model, sequence } = await openLlamaSequence(llama, ggufPath);
  const continuation: number[] = [];
  let input = [...promptIds];
  while (continuation.length < count) {
    const items = input.map((id, index): ControlledEvaluateInputItem => (index === input.length - 1 ? [id as Token, { generateNext: { token: true } }] : (id as Token)));
    const next = (await sequence.controlledEvaluate(items)).at(-1)!.next.token! as number;
    continuation.push(next);
    input = [next];
  }
  await model.dispose();
  return continuation;
}
