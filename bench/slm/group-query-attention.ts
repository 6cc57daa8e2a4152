import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { rewriteGraph } from '../../src/engine/rewrite-graph.ts';
import { createTokenizer } from '../../src/text/tokenizer.ts';
import { argmaxOf, promptIds } from './measure.ts';

/*
 * Decode speed of an optimum decoder's attention as exported (Concat of the cache, head repeat, MatMul / Softmax /
 * MatMul) against the same graph with com.microsoft GroupQueryAttention put in at load
 * (src/onnx/group-query-attention.ts), in a bare greedy loop so only the attention differs. Both graphs get
 * logits_to_keep (one row of logits per prefill), as honnx opens them. Each context length runs the two graphs in
 * the order A B B A (2048: A B), so a change in the box's load falls on both; it prints the median step time of each
 * and whether their greedy tokens are identical. Figures, not assertions.
 *   node bin/run-ts.mjs bench/slm/group-query-attention.ts FOLDER [threads, default 2] [new tokens, default 32] [contexts, default 16,512]
 */
const [folder, threadsText = '2', newTokensText = '32', contextsText = '16,512'] = process.argv.slice(2);
const threads = Number(threadsText);
const newTokens = Number(newTokensText);
const contexts = contextsText.split(',').map(Number);
const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
const readJson = (name: string) => JSON.parse(readFileSync(join(folder, name), 'utf8'));
const tokenizer = createTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), config);
const encode = (text: string) => tokenizer.encode(text, { addSpecialTokens: false }).ids;
const path = join(folder, 'onnx', 'model_q4.onnx');
const load = () => loadavg().map((value) => value.toFixed(1)).join(' ');

async function open(groupQueryAttention: boolean) {
  const rewritten = rewriteGraph(path, { logitsToKeep: true, groupQueryAttention })!;
  if (groupQueryAttention && rewritten.groupQueryAttentionLayers === 0) throw new Error(`the rewrite refused: ${rewritten.groupQueryAttentionRefused}`);
  return ort.InferenceSession.create(rewritten.bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    extra: { session: { model_external_initializers_file_folder_path: rewritten.externalDataFolder } },
  });
}

const sessions = { exported: await open(false), gqa: await open(true) };
const heads = config.num_key_value_heads;
const headDimension = config.head_dim ?? config.hidden_size / config.num_attention_heads;
const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);
const CHUNK = 512;

/** Greedy: the prompt in chunks of 512, then `count` single-token steps; the step times in ms. */
async function generate(session: ort.InferenceSession, prompt: number[], count: number) {
  const pastNames = session.inputNames.filter((name) => name.startsWith('past_key_values.'));
  let past: Record<string, ort.Tensor> = Object.fromEntries(pastNames.map((name) => [name, new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDimension])]));
  let position = 0;
  const step = async (ids: number[]) => {
    const total = position + ids.length;
    const outputs = await session.run({
      input_ids: int64(ids),
      attention_mask: int64(new Array(total).fill(1)),
      position_ids: int64(ids.map((_, index) => position + index)),
      logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(1n), []),
      ...past,
    });
    past = Object.fromEntries(pastNames.map((name) => [name, outputs[name.replace('past_key_values.', 'present.')]]));
    position = total;
    return argmaxOf(outputs.logits.data as Float32Array, 0, outputs.logits.dims[2]);
  };
  let next = 0;
  for (let start = 0; start < prompt.length; start += CHUNK) next = await step(prompt.slice(start, start + CHUNK));
  const tokens = [next];
  const times: number[] = [];
  while (tokens.length <= count) {
    const started = performance.now();
    tokens.push(await step([tokens.at(-1)!]));
    times.push(performance.now() - started);
  }
  return { tokens, times };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`${folder} q4, ${threads} threads, greedy, ${newTokens} decode steps after each prompt; load average ${load()}`);
console.log('| context | as exported: ms/step (tok/s) | GroupQueryAttention: ms/step (tok/s) | speed-up | tokens identical | load |');
console.log('|---|---|---|---|---|---|');
await generate(sessions.exported, promptIds(encode, 16), 2);
await generate(sessions.gqa, promptIds(encode, 16), 2);
for (const context of contexts) {
  const prompt = promptIds(encode, context);
  const order: (keyof typeof sessions)[] = context >= 2048 ? ['exported', 'gqa'] : ['exported', 'gqa', 'gqa', 'exported'];
  const times: Record<string, number[]> = { exported: [], gqa: [] };
  const tokens: Record<string, number[][]> = { exported: [], gqa: [] };
  for (const name of order) {
    const result = await generate(sessions[name], prompt, newTokens);
    times[name].push(...result.times);
    tokens[name].push(result.tokens);
  }
  const identical = [...tokens.exported, ...tokens.gqa].every((run) => run.join() === tokens.exported[0].join());
  const [before, after] = [median(times.exported), median(times.gqa)];
  console.log(`| ${context} | ${before.toFixed(1)} (${(1000 / before).toFixed(1)}) | ${after.toFixed(1)} (${(1000 / after).toFixed(1)}) | ${(before / after).toFixed(2)}× | ${identical ? 'yes' : 'NO'} | ${load()} |`);
}
for (const session of Object.values(sessions)) await session.release();
