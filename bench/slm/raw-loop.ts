import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createTokenizer } from '../../src/text/tokenizer.ts';
import { argmaxOf, printResult, promptIds, PROMPT_LENGTHS, readRss } from './measure.ts';

/*
 * The floor: a bare onnxruntime-node greedy loop on the optimum graph, fresh outputs every step (as a user's first
 * loop would be), argmax in plain JS. TTFT is one prefill run of the whole prompt; decode is tokens per second over
 * `newTokens` steps after a 16-token prompt.
 * Usage: raw-loop.ts <model folder> <onnx file> <threads> <new tokens> [graph optimization level: all|extended|basic|disabled]
 */
const [folder, file, threadsText, newTokensText, optimization = 'all'] = process.argv.slice(2);
const threads = Number(threadsText);
const newTokens = Number(newTokensText);
const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
const readJson = (name: string) => JSON.parse(readFileSync(join(folder, name), 'utf8'));
const tokenizer = createTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), config);
const encode = (text: string) => tokenizer.encode(text, { addSpecialTokens: false }).ids;
const session = await ort.InferenceSession.create(join(folder, 'onnx', file), { executionProviders: ['cpu'], graphOptimizationLevel: optimization as 'all', intraOpNumThreads: threads, interOpNumThreads: 1 });
const pastNames = session.inputNames.filter((name) => name.startsWith('past_key_values.'));
const heads = config.num_key_value_heads;
const headDimension = config.head_dim ?? config.hidden_size / config.num_attention_heads;
const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);

async function generate(prompt: number[], count: number) {
  let past: Record<string, ort.Tensor> = Object.fromEntries(pastNames.map((name) => [name, new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDimension])]));
  let ids = prompt;
  let position = 0;
  const times: number[] = [];
  const started = performance.now();
  const generated: number[] = [];
  while (generated.length < count) {
    const total = position + ids.length;
    const outputs = await session.run({ input_ids: int64(ids), attention_mask: int64(new Array(total).fill(1)), position_ids: int64(ids.map((_, index) => position + index)), ...past });
    const logits = outputs.logits;
    const vocabulary = logits.dims[2];
    generated.push(argmaxOf(logits.data as Float32Array, (logits.dims[1] - 1) * vocabulary, vocabulary));
    times.push(performance.now() - started);
    past = Object.fromEntries(pastNames.map((name) => [name, outputs[name.replace('past_key_values.', 'present.')]]));
    position = total;
    ids = [generated.at(-1)!];
  }
  return { generated, times };
}

await generate(promptIds(encode, 16), 2);
const ttft: Record<number, number> = {};
for (const length of PROMPT_LENGTHS) ttft[length] = (await generate(promptIds(encode, length), 1)).times[0];
const decode = async (length: number) => {
  const { times } = await generate(promptIds(encode, length), newTokens + 1);
  return (newTokens * 1000) / (times.at(-1)! - times[0]);
};
const decode16 = await decode(16);
const decode512 = await decode(512);
printResult({ ttft, decode16, decode512, rss: readRss() });
