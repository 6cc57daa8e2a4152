import * as ort from 'onnxruntime-web/wasm';
import wasmModule from 'onnxruntime-web/ort-wasm-simd-threaded.wasm';
import { expect, it } from 'vitest';
import classify from '../../functions/classify.ts';
import extract from '../../functions/extract.ts';
import generate from '../../functions/generate.ts';
import langid from '../../functions/langid.ts';
import summarize from '../../functions/summarize.ts';
import type { HonnxFunction } from '../../src/spec/define-function.ts';
import { createWorker, type HonnxWorker } from '../../src/runtime/workers/create-worker.ts';
import type { ModelSource } from '../../src/runtime/workers/model-source.ts';
import { postJson } from '../support/requests.ts';
import { modelService } from './workerd-context.ts';

/** A model's files read ahead into memory, as a built worker holds them in Data modules. */
async function readBundle(model: string, paths: string[]): Promise<ModelSource> {
  const files: Record<string, Uint8Array> = {};
  for (const path of paths) {
    const response = await modelService.fetch(`https://honnx-model.internal/shared/${model}/${path}`);
    if (response.ok) files[path] = new Uint8Array(await response.arrayBuffer());
  }
  return { from: 'bundle', files };
}

const CANDIDATE_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'fasttext_featurizer.json', 'onnx/model.onnx'];

// Kept alone in its file so that ONNX Runtime has not initialised before this test (each file runs on its
// own module instances). With models in memory, several functions' first sessions start in the same tick.
const functions = { classify, extract, langid, summarize, generate } as Record<string, HonnxFunction>;
let worker: HonnxWorker;

it('loads several bundled functions at once in a fresh isolate: every one becomes ready', async () => {
  const entries = [];
  for (const [name, fn] of Object.entries(functions)) entries.push({ name, fn, model: await readBundle(fn.definition.model, CANDIDATE_FILES) });
  worker = createWorker({ ort, wasmModule, functions: entries });
  const response = await worker.fetch(new Request('https://honnx.test/readyz'));
  const body = (await response.json()) as { status: string; functions: Record<string, string> };
  const failures = [];
  for (const name of Object.keys(functions)) {
    if (body.functions[name] !== 'ready') failures.push(((await (await worker.fetch(new Request(`https://honnx.test/${name}`))).json()) as { failure?: string }).failure);
  }
  expect(body.functions, failures.join('\n')).toEqual({ classify: 'ready', extract: 'ready', langid: 'ready', summarize: 'ready', generate: 'ready' });
  expect(response.status).toBe(200);
});

it('answers concurrent requests to different functions as it answers them one at a time', async () => {
  const requests: [string, unknown][] = [
    ['/generate', { inputs: 'Once upon a time, there was a dog', parameters: { max_new_tokens: 24, do_sample: false } }],
    ['/classify', { inputs: ['I love this', 'The movie was boring and far too long'] }],
    ['/langid', { inputs: 'Ich liebe dieses Buch sehr.' }],
    ['/extract', { inputs: ['Angela Merkel met Emmanuel Macron in Paris on Tuesday', 'Nothing here.'] }],
    ['/summarize', { inputs: 'The first sentence is here. A second follows it. Then a third one ends the text.', parameters: { sentences: 1, return_scores: true } }],
    ['/generate', { inputs: 'Lily and Tom went to the', parameters: { max_new_tokens: 24, do_sample: false } }],
  ];
  const send = async ([path, body]: [string, unknown]) => {
    const response = await worker.fetch(new Request(`https://honnx.test${path}`, postJson(body)));
    return { status: response.status, body: await response.json() };
  };
  const oneByOne = [];
  for (const request of requests) oneByOne.push(await send(request));
  expect(oneByOne.map(({ status }) => status)).toEqual(requests.map(() => 200));
  const together = await Promise.all(requests.map(send));
  expect(together).toEqual(oneByOne);
});
