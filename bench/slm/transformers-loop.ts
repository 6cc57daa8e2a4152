import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createTokenizer } from '../../src/text/tokenizer.ts';
import { printResult, promptIds, PROMPT_LENGTHS, readRss } from './measure.ts';

/*
 * transformers.js 4.3.1 on the same folder, `dtype: 'q4'`, greedy `generate` with a streamer that notes when each
 * token arrives. Usage: transformers-loop.ts <model folder> <dtype> <threads> <new tokens>
 */
const [folder, dtype, threadsText, newTokensText] = process.argv.slice(2);
const newTokens = Number(newTokensText);
env.localModelPath = `${dirname(folder)}/`;
env.allowLocalModels = true;
env.allowRemoteModels = false;
const model = await AutoModelForCausalLM.from_pretrained(basename(folder), {
  dtype: dtype as 'q4',
  device: 'cpu',
  session_options: { intraOpNumThreads: Number(threadsText), interOpNumThreads: 1 },
});
const readJson = (name: string) => JSON.parse(readFileSync(join(folder, name), 'utf8'));
const tokenizer = createTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), readJson('config.json'));
const encode = (text: string) => tokenizer.encode(text, { addSpecialTokens: false }).ids;

async function generate(prompt: number[], count: number): Promise<number[]> {
  const times: number[] = [];
  const started = performance.now();
  const input_ids = new Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, prompt.length]);
  const attention_mask = new Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]);
  // A streamer's put() is called with the prompt first, then once per new token.
  let calls = 0;
  const streamer = { put: () => (calls++ > 0 ? times.push(performance.now() - started) : undefined), end: () => {} };
  await model.generate({ input_ids, attention_mask, max_new_tokens: count, min_new_tokens: count, do_sample: false, streamer } as never);
  return times;
}

await generate(promptIds(encode, 16), 2);
const ttft: Record<number, number> = {};
for (const length of PROMPT_LENGTHS) ttft[length] = (await generate(promptIds(encode, length), 1))[0];
const decode = async (length: number) => {
  const times = await generate(promptIds(encode, length), newTokens + 1);
  return ((times.length - 1) * 1000) / (times.at(-1)! - times[0]);
};
const decode16 = await decode(16);
const decode512 = await decode(512);
printResult({ ttft, decode16, decode512, rss: readRss() });
