import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LlamaContextSequence, Token } from 'node-llama-cpp';
import { createTokenizer } from '../../src/text/tokenizer.ts';
import { openLlamaCpp } from '../../test/support/llama-cpp-agreement.ts';
import { printResult, promptIds, PROMPT_LENGTHS, readRss } from './measure.ts';

/*
 * llama.cpp (node-llama-cpp 3.21.1, prebuilt CPU binaries) on the Q4_0 GGUF of the same weights. The prompt ids come
 * from the folder's tokenizer, as for the other engines, so every engine reads the same tokens. TTFT is one
 * evaluation of the prompt up to its first generated token; decode is tokens per second over `newTokens` greedy
 * steps; 4 and 8 streams are that many sequences of one context, which llama.cpp decodes in one batch.
 * Usage: llama-cpp-loop.ts <model folder> <gguf file> <threads> <new tokens>
 */
const [folder, ggufPath, threadsText, newTokensText] = process.argv.slice(2);
const threads = Number(threadsText);
const newTokens = Number(newTokensText);
const readJson = (name: string) => JSON.parse(readFileSync(join(folder, name), 'utf8'));
const tokenizer = createTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), readJson('config.json'));
const encode = (text: string) => tokenizer.encode(text, { addSpecialTokens: false }).ids;

const llama = await openLlamaCpp();
const model = await llama.loadModel({ modelPath: ggufPath });
const longest = Math.max(...PROMPT_LENGTHS, 512);
const context = await model.createContext({ contextSize: longest + newTokens + 16, batchSize: 512, sequences: 1, threads });

/** Arrival times (ms from the start) of `count` greedy tokens after `prompt`, on a cleared sequence. */
async function generate(sequence: LlamaContextSequence, prompt: number[], count: number): Promise<number[]> {
  await sequence.clearHistory();
  const times: number[] = [];
  const started = performance.now();
  for await (const token of sequence.evaluate(prompt as Token[], { temperature: 0 })) {
    void token;
    times.push(performance.now() - started);
    if (times.length >= count) break;
  }
  return times;
}

const sequence = context.getSequence();
await generate(sequence, promptIds(encode, 16), 2);
const ttft: Record<number, number> = {};
for (const length of PROMPT_LENGTHS) ttft[length] = (await generate(sequence, promptIds(encode, length), 1))[0];
const decode = async (length: number) => {
  const times = await generate(sequence, promptIds(encode, length), newTokens + 1);
  return ((times.length - 1) * 1000) / (times.at(-1)! - times[0]);
};
const decode16 = await decode(16);
const decode512 = await decode(512);
sequence.dispose();
await context.dispose();

async function aggregate(streams: number): Promise<number> {
  const shared = await model.createContext({ contextSize: streams * (16 + newTokens + 16), batchSize: 512, sequences: streams, threads });
  const sequences = Array.from({ length: streams }, () => shared.getSequence());
  const started = performance.now();
  const all = await Promise.all(sequences.map((each) => generate(each, promptIds(encode, 16), newTokens)));
  const rate = (all.reduce((sum, times) => sum + times.length, 0) * 1000) / (performance.now() - started);
  await shared.dispose();
  return rate;
}
const streams4 = await aggregate(4);
const streams8 = await aggregate(8);
const rss = readRss();
await model.dispose();
await llama.dispose();
printResult({ ttft, decode16, decode512, streams4, streams8, rss });
