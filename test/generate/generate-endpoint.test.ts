import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { summarizeEndpoint } from '../../src/endpoints/summarize-endpoint.ts';
import { generateEndpoint, type GenerateStreamEvent } from '../../src/endpoints/generate-endpoint.ts';
import { generateText } from '../../src/tasks/generate/generate-text.ts';
import { InputError } from '../../src/tasks/input-error.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { mirrorFolder, mirrorModelFiles } from '../support/shared-models.ts';
import { readServerSentEvents } from '../support/server-sent-events.ts';
import { parseGreedySamples, type GreedySample } from '../support/tinystories-samples.ts';


const post = (body: unknown) =>
  new Request('http://honnx.test/story', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The `data:` payloads of a server-sent event stream, parsed. */
const readEvents = (text: string): { event?: string; data: unknown }[] => readServerSentEvents(text).map(({ event, data }) => ({ event, data: JSON.parse(data) }));

describe('generate endpoint over HTTP (tinystories-260k, onnxruntime-node)', () => {
  let fetch: (request: Request) => Response | Promise<Response>;
  let sample: GreedySample;
  beforeAll(async () => {
    const fn = defineFunction({ task: generateEndpoint, model: 'tinystories-260k', limits: { maxNewTokens: 64 } });
    const engine = createNodeEngine({ threads: 1 });
    const host = createFunctionHost('story', fn.definition, () => loadModelBundle(mirrorModelFiles('tinystories-260k'), engine));
    await host.load();
    fetch = createHonnxApp({ functions: [{ fn, host }] }).fetch;
    const samples = parseGreedySamples(await readFile(join(mirrorFolder, 'tinystories-260k/sanity.json'), 'utf8'));
    sample = samples.find((entry) => entry.prompt === 'Once upon a time, there was a dog')!;
  });

  const newTokens = () => sample.greedy_ids.length - sample.prompt_ids.length;

  it('answers [{generated_text}] with the published greedy continuation', async () => {
    const response = await fetch(post({ inputs: sample.prompt, parameters: { max_new_tokens: newTokens(), do_sample: false } }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([{ generated_text: sample.greedy_text.slice(sample.prompt.length) }]);
    const full = await fetch(post({ inputs: sample.prompt, parameters: { max_new_tokens: newTokens(), return_full_text: true, details: true } }));
    const [answer] = (await full.json()) as { generated_text: string; details: Record<string, unknown> }[];
    expect(answer.generated_text).toBe(sample.greedy_text);
    expect(answer.details).toMatchObject({ finish_reason: 'length', generated_tokens: newTokens() });
  });

  it('streams TGI events whose tokens are the published ids, the last one carrying generated_text', async () => {
    const response = await fetch(post({ inputs: sample.prompt, parameters: { max_new_tokens: newTokens() }, stream: true }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = readEvents(await response.text()).map((entry) => entry.data as GenerateStreamEvent);
    expect(events.map((event) => event.token.id)).toEqual(sample.greedy_ids.slice(sample.prompt_ids.length));
    expect(events.slice(0, -1).every((event) => event.generated_text === null && event.details === null)).toBe(true);
    const generated = sample.greedy_text.slice(sample.prompt.length);
    expect(events.at(-1)!.generated_text).toBe(generated);
    expect(events.map((event) => event.token.text).join('')).toBe(generated);
    for (const event of events) {
      expect(event.token.logprob).toBeLessThanOrEqual(0);
      expect(event.token.special).toBe(false);
    }
  });

  it('gives a seeded sampled answer again for the same seed, streamed or not', async () => {
    const parameters = { max_new_tokens: 30, temperature: 0.9, top_p: 0.9, seed: 2024, stop: ['\n'] };
    const first = (await (await fetch(post({ inputs: 'Tom had a', parameters }))).json()) as { generated_text: string }[];
    const again = (await (await fetch(post({ inputs: 'Tom had a', parameters }))).json()) as { generated_text: string }[];
    const streamed = readEvents(await (await fetch(post({ inputs: 'Tom had a', parameters, stream: true }))).text());
    expect(again).toEqual(first);
    expect((streamed.at(-1)!.data as GenerateStreamEvent).generated_text).toBe(first[0].generated_text);
    expect(first[0].generated_text).not.toContain('\n');
  });

  it('refuses max_new_tokens above the function limit and unknown parameters', async () => {
    const tooMany = await fetch(post({ inputs: 'Tom', parameters: { max_new_tokens: 65 } }));
    expect(tooMany.status).toBe(413);
    const streamedTooMany = await fetch(post({ inputs: 'Tom', parameters: { max_new_tokens: 65 }, stream: true }));
    expect(streamedTooMany.status).toBe(413);
    const typo = await fetch(post({ inputs: 'Tom', parameters: { max_tokens: 5 } }));
    expect(typo.status).toBe(400);
    // A list of prompts is answered (test/generate/generate-input-list.test.ts), up to the task's default of 8.
    const batch = await fetch(post({ inputs: Array.from({ length: 9 }, () => 'Tom') }));
    expect(batch.status).toBe(413);
  });

  it('refuses a prompt longer than the model allows with 413', async () => {
    const response = await fetch(post({ inputs: 'Lily and Tom went to the park. '.repeat(60), parameters: { max_new_tokens: 4 } }));
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/prompt is \d+ tokens/);
  });

  it('fills a function template around the input', async () => {
    const response = await fetch(
      post({ inputs: 'a dog', parameters: { prompt_template: 'Once upon a time, there was {{input}}', max_new_tokens: newTokens(), return_full_text: true } }),
    );
    expect(await response.json()).toEqual([{ generated_text: sample.greedy_text }]);
  });

  it('describes the model', async () => {
    const info = (await (await fetch(new Request('http://honnx.test/story'))).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ task: 'generate', kind: 'decoder-only', kv_cache: true, max_sequence_length: 512, eos_token_ids: [1] });
  });
});

describe('generative summarize endpoint (tinystories-260k, a causal model without a chat template)', () => {
  const limits = { maxBodyBytes: 1 << 20, maxInputs: 4, maxInputTokens: 256, maxNewTokens: 16, maxSentences: 0 };
  const context = (parameters: Record<string, unknown>) => ({ parameters, limits, stream: false, signal: new AbortController().signal });

  it('answers [{summary_text}] per input, prompting with TL;DR', async () => {
    const summarizer = await summarizeEndpoint.prepare(
      await loadModelBundle(mirrorModelFiles('tinystories-260k'), createNodeEngine({ threads: 1 })),
    );
    if (summarizer.kind !== 'generative') throw new Error('tinystories must get the generative summarizer');
    const texts = ['Lily and Tom went to the park. They saw a big box.', 'Once upon a time, there was a dog named Max.'];
    const answer = await summarizeEndpoint.answer(summarizer, texts, context({ max_new_tokens: 8 }));
    expect(answer).toHaveLength(2);
    for (const [index, text] of texts.entries()) {
      const direct = await generateText(summarizer.generator, `${text}\n\nTL;DR:`, { maxNewTokens: 8 });
      expect((answer as { summary_text: string }[])[index].summary_text).toBe(direct.generatedText.trim());
    }
    await expect(summarizeEndpoint.answer(summarizer, 'Text.', context({ max_new_tokens: 17 }))).rejects.toThrow(InputError);
    // Extractive-only parameters are refused for a generative summarizer rather than ignored.
    await expect(summarizeEndpoint.answer(summarizer, 'Text.', context({ ratio: 0.5 }))).rejects.toThrow(/does not apply/);
    expect(summarizeEndpoint.describe(summarizer)).toMatchObject({ kind: 'generative', model_kind: 'decoder-only', chat_template: false });
    await summarizer.generator.model.release();
  });

  it('validates its parameters strictly', () => {
    expect(summarizeEndpoint.parametersSchema.safeParse({ max_new_tokens: 8, min_new_tokens: 2, seed: 1 }).success).toBe(true);
    expect(summarizeEndpoint.parametersSchema.safeParse({ sentence: 3 }).success).toBe(false);
    expect(generateEndpoint.parametersSchema.safeParse({ top_p: 0 }).success).toBe(false);
    expect(generateEndpoint.parametersSchema.safeParse({ top_k: null, prompt_template: 'no slot' }).success).toBe(false);
  });
});
