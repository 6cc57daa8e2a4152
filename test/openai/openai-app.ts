import type OpenAI from 'openai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp, type NodeAppOptions } from '../../src/runtime/node/create-node-app.ts';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { parseGreedySamples, type GreedySample } from '../support/tinystories-samples.ts';

const projectRoot = join(import.meta.dirname, '../..');

/** The Node app serving some of the project's functions (functions/*.ts), as `npm start` would, models from the mirror. */
export async function createAppOf(names: readonly string[], serving?: NodeAppOptions['serving']) {
  const functions = (await discoverFunctions(join(projectRoot, 'functions'))).filter(({ name }) => names.includes(name));
  const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
  const served = createNodeApp({ functions, engine: createNodeEngine({ threads: 1 }), searchPaths, serving });
  await served.ready();
  return served;
}

/** A published greedy continuation of tinystories-260k (sanity.json, karpathy's llama2.c run). */
export async function readGreedySample(prompt = 'Once upon a time, there was a dog'): Promise<GreedySample & { newTokens: number; continuation: string }> {
  const samples = parseGreedySamples(await readFile(join(mirrorFolder, 'tinystories-260k/sanity.json'), 'utf8'));
  const sample = samples.find((entry) => entry.prompt === prompt)!;
  return { ...sample, newTokens: sample.greedy_ids.length - sample.prompt_ids.length, continuation: sample.greedy_text.slice(sample.prompt.length) };
}

export { readServerSentEvents } from '../support/server-sent-events.ts';

/** The text and the usage a streamed chat completion adds up to, as a client reads them chunk by chunk. */
export async function collectChatStream(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<{ text: string; usage: OpenAI.CompletionUsage | null | undefined }> {
  let text = '';
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    usage = chunk.usage ?? usage;
  }
  return { text, usage };
}
