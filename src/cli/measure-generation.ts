import { createNodeEngine } from '../engine/onnxruntime-node.ts';
import { createFolderModelFiles } from '../models/folder-model-files.ts';
import { loadModelBundle, type ModelVariant } from '../models/model-bundle.ts';
import { streamText } from '../tasks/generate/generate-text.ts';
import { createTextGenerator, type TextGenerator } from '../tasks/generate/text-generator.ts';

export interface GenerationMeasureOptions {
  folder: string;
  variant: ModelVariant;
  threads: number;
  /** Prompt lengths, in tokens, to time the first token of. */
  promptLengths: readonly number[];
  newTokens: number;
  /** Concurrent stream counts to measure aggregate decode at (1 is always measured). */
  streamCounts: readonly number[];
}

export interface GenerationMeasurement {
  loadSeconds: number;
  /** Time to the first token, ms, by prompt length. */
  timeToFirstToken: Record<number, number>;
  /** One stream's tokens per second after the shortest prompt, and after the longest. */
  decodeShortContext: number;
  decodeLongContext: number;
  /** Tokens per second over all streams, by stream count. */
  aggregate: Record<number, number>;
  /** New tokens each measured stream made (every one of them is made: end-of-sequence is held off). */
  tokensPerStream: number[];
  peakRssBytes: number;
}

const FILLER = 'The quick brown fox jumps over the lazy dog while the farmer counts his sheep in the morning light. ';

/** Prompt ids of exactly `length` tokens: an English text repeated and cut (random weights make its meaning moot). */
export function fillPromptIds(encode: (text: string) => number[], length: number): number[] {
  const once = encode(FILLER);
  const ids: number[] = [];
  while (ids.length < length) ids.push(...once);
  return ids.slice(0, length);
}

/** A prompt of exactly `length` tokens of this tokenizer, without special tokens (BOS is not counted twice). */
function promptOf(generator: TextGenerator, length: number) {
  const ids = fillPromptIds((text) => generator.tokenizer.encode(text, { addSpecialTokens: false }).ids, length);
  return { text: generator.tokenizer.decode(ids, { skipSpecialTokens: true }), addSpecialTokens: false };
}

/** Arrival times (ms from the call) of each token of one greedy generation of exactly `count` tokens. */
async function timeTokens(generator: TextGenerator, length: number, count: number): Promise<number[]> {
  const started = performance.now();
  const times: number[] = [];
  const events = streamText(generator, promptOf(generator, length), { maxNewTokens: count, minNewTokens: count, doSample: false, withLogprobs: false, withTokenTexts: false });
  for await (const event of events) if (event.kind === 'token') times.push(performance.now() - started);
  return times;
}

const rate = (times: number[]) => ((times.length - 1) * 1000) / (times.at(-1)! - times[0]);

/**
 * Loads a model folder the way `honnx serve` does on Node (one session, the step loop that batches streams) and
 * times it: first token per prompt length, one stream's decode, the aggregate of concurrent streams, peak RSS.
 */
export async function measureGeneration(options: GenerationMeasureOptions): Promise<GenerationMeasurement> {
  const loadStarted = performance.now();
  const bundle = await loadModelBundle(createFolderModelFiles(options.folder), createNodeEngine({ threads: options.threads }), { variant: options.variant });
  const longest = Math.max(...options.promptLengths);
  const generator = await createTextGenerator(bundle, { contextTokens: longest + options.newTokens + 8 });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const shortest = Math.min(...options.promptLengths);
  await timeTokens(generator, shortest, 2);
  const timeToFirstToken: Record<number, number> = {};
  for (const length of options.promptLengths) timeToFirstToken[length] = (await timeTokens(generator, length, 1))[0];
  const short = await timeTokens(generator, shortest, options.newTokens + 1);
  const long = longest === shortest ? short : await timeTokens(generator, longest, options.newTokens + 1);
  const tokensPerStream = [short.length - 1];
  const aggregate: Record<number, number> = { 1: rate(short) };
  for (const streams of options.streamCounts.filter((count) => count > 1)) {
    const started = performance.now();
    const all = await Promise.all(Array.from({ length: streams }, () => timeTokens(generator, shortest, options.newTokens)));
    tokensPerStream.push(...all.map((times) => times.length));
    aggregate[streams] = (all.reduce((sum, times) => sum + times.length, 0) * 1000) / (performance.now() - started);
  }
  await generator.model.release();
  return {
    loadSeconds,
    timeToFirstToken,
    decodeShortContext: rate(short),
    decodeLongContext: rate(long),
    aggregate,
    tokensPerStream,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}
