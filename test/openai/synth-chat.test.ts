import { AutoTokenizer, env } from '@huggingface/transformers';
import { Validator } from '@cfworker/json-schema';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { generateEndpoint } from '../../src/endpoints/generate-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { createFunctionHost, type FunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { postJson, sendThrough, type SendRequest } from '../support/requests.ts';

type Json = Record<string, any>;

const CONVERSATION = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'Name a color.' },
];

/**
 * Each preset's conversation as its published chat template renders it (Qwen3's ChatML; Llama 3's header blocks,
 * BOS first), written out by hand from the model cards, so that honnx's rendering is checked against text, not
 * against itself.
 */
const PRESETS = [
  {
    preset: 'qwen3-0.6b',
    prompt:
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n' +
      '<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant\n',
  },
  {
    preset: 'llama-3.2-1b',
    prompt:
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>' +
      '<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nName a color.<|eot_id|>' +
      '<|start_header_id|>assistant<|end_header_id|>\n\n',
  },
];

/** The preset at 1 layer of width 64 in a temp folder, as `honnx models synth PRESET OUT --layers 1 --hidden 64` writes it. */
async function synthesizeTinyPreset(preset: string): Promise<{ folder: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'honnx-synth-chat-'));
  const folder = join(root, `${preset}-tiny`);
  await synthesizeModel({ preset, outputFolder: folder, variant: 'fp32', layers: 1, hiddenSize: 64, seed: 11 });
  return { folder, remove: () => rm(root, { recursive: true, force: true }) };
}

const readDataEvents = (text: string) => text.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim());

describe.each(PRESETS)('/v1 on a synthesized $preset (1 layer, hidden 64, random weights, real tokenizer and chat template)', ({ preset, prompt }) => {
  let send: SendRequest;
  let host: FunctionHost;
  let remove: () => Promise<void>;
  let referenceIds: number[];
  const chat = async (body: Json): Promise<Json> => {
    const response = await send('/v1/chat/completions', postJson({ model: 'chat', messages: CONVERSATION, ...body }));
    const text = await response.text();
    expect(response.status, text).toBe(200);
    return JSON.parse(text) as Json;
  };
  const contentOf = (answer: Json): string => answer.choices[0].message.content;

  beforeAll(async () => {
    const model = await synthesizeTinyPreset(preset);
    remove = model.remove;
    const fn = defineFunction({ task: generateEndpoint, model: basename(model.folder), limits: { maxNewTokens: 96 } });
    host = createFunctionHost('chat', fn.definition, () => loadModelBundle(createFolderModelFiles(model.folder, basename(model.folder)), createNodeEngine({ threads: 1 })));
    await host.load();
    send = sendThrough(createHonnxApp({ functions: [{ fn, host }] }).fetch);
    // transformers.js 4.3.1's tokenizer on the same folder: the reference token ids of the hand-written prompt.
    env.allowRemoteModels = false;
    env.localModelPath = `${dirname(model.folder)}/`;
    const tokenizer = await AutoTokenizer.from_pretrained(basename(model.folder));
    referenceIds = tokenizer.encode(prompt, { add_special_tokens: false });
    // The hand-written text is what the model's own template gives (transformers.js renders it too).
    expect(tokenizer.apply_chat_template(CONVERSATION, { tokenize: false, add_generation_prompt: true })).toBe(prompt);
  }, 60_000);
  afterAll(async () => {
    await host?.release();
    await remove?.();
  });

  it("renders the model's chat template: the prompt's tokens are the template's, token for token", async () => {
    const answer = await chat({ max_tokens: 6, temperature: 0 });
    expect(answer.usage.prompt_tokens).toBe(referenceIds.length);
    // The same prompt sent as text through /v1/completions (special tokens written out are read as such; neither
    // tokenizer adds a BOS of its own, as transformers.js agrees) gives the same greedy continuation from the same
    // number of tokens: the chat route fed exactly these ids.
    const completion = (await (await send('/v1/completions', postJson({ model: 'chat', prompt, max_tokens: 6, temperature: 0 }))).json()) as Json;
    expect(completion.usage.prompt_tokens).toBe(referenceIds.length);
    expect(completion.choices[0].text).toBe(contentOf(answer));
  });

  it('streams: the chunks add up to the answer, then the finish reason, the usage and [DONE]', async () => {
    const whole = await chat({ max_tokens: 10, temperature: 0 });
    const response = await send('/v1/chat/completions', postJson({ model: 'chat', messages: CONVERSATION, max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true } }));
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = readDataEvents(await response.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as Json);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const streamed = chunks.flatMap((chunk) => chunk.choices.map((choice: Json) => choice.delta.content ?? '')).join('');
    expect(streamed).toBe(contentOf(whole));
    expect(chunks.filter((chunk) => chunk.choices.length > 0).at(-1)!.choices[0].finish_reason).toBe(whole.choices[0].finish_reason);
    expect(chunks.at(-1)!.usage).toEqual(whole.usage);
  });

  it('honours max_tokens, stop and seed', async () => {
    const short = await chat({ max_tokens: 3, temperature: 0 });
    expect(short.usage.completion_tokens).toBeLessThanOrEqual(3);
    if (short.usage.completion_tokens === 3) expect(short.choices[0].finish_reason).toBe('length');
    const long = await chat({ max_completion_tokens: 16, temperature: 0 });
    const text = contentOf(long);
    expect(text.startsWith(contentOf(short))).toBe(true);
    // A stop string from the middle of the greedy answer: the answer ends just before it.
    const middle = Math.floor(text.length / 2);
    const stop = text.slice(middle, middle + 2);
    const stopped = await chat({ max_completion_tokens: 16, temperature: 0, stop: [stop] });
    expect(contentOf(stopped)).toBe(text.slice(0, text.indexOf(stop)));
    expect(stopped.choices[0].finish_reason).toBe('stop');
    // Sampling: one seed, one answer; other seeds, other answers. These random weights put nearly all the mass on
    // one token (Qwen3's first token has logprob -4e-7), so the draw is made at temperature 2 over the whole
    // vocabulary (top_p 1 and top_k 0 over generation_config.json's) and for 40 tokens, where the tail shows.
    const sampled = (seed: number) => chat({ max_tokens: 40, temperature: 2, top_p: 1, top_k: 0, seed }).then(contentOf);
    const first = await sampled(5);
    expect(await sampled(5)).toBe(first);
    const others = await Promise.all([6, 7, 8].map(sampled));
    expect(others.some((other) => other !== first)).toBe(true);
  });

  it('response_format json_schema: valid JSON matching the schema, even with random weights', async () => {
    const schema = {
      type: 'object',
      properties: { color: { type: 'string', maxLength: 8 }, shade: { enum: ['light', 'dark'] }, count: { type: 'integer', minimum: 0, maximum: 99 } },
      required: ['color', 'shade', 'count'],
      additionalProperties: false,
    };
    for (const seed of [1, 2]) {
      const answer = await chat({ max_tokens: 64, temperature: 1, seed, response_format: { type: 'json_schema', json_schema: { name: 'color', schema, strict: true } } });
      expect(answer.choices[0].finish_reason).toBe('stop');
      const value = JSON.parse(contentOf(answer)) as unknown;
      expect(new Validator(schema as never, '2020-12').validate(value).valid, contentOf(answer)).toBe(true);
    }
    const object = await chat({ max_tokens: 64, temperature: 0, response_format: { type: 'json_object' } });
    if (object.choices[0].finish_reason === 'stop') expect(typeof JSON.parse(contentOf(object))).toBe('object');
  });
});
