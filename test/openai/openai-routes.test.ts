import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, type SendRequest } from '../support/requests.ts';
import { transports } from '../support/transports.ts';
import { createAppOf, readGreedySample, readServerSentEvents } from './openai-app.ts';

type Json = Record<string, any>;

describe.each(transports)('OpenAI routes on tinystories-260k ($name)', (transport) => {
  let started: { send: SendRequest; stop(): Promise<void> } | undefined;
  let sample: Awaited<ReturnType<typeof readGreedySample>>;
  const send: SendRequest = (path, init) => started!.send(path, init);
  const postChat = async (body: Json) => send('/v1/chat/completions', postJson({ model: 'generate', ...body }));

  beforeAll(async () => {
    const { app } = await createAppOf(['generate', 'classify']);
    started = await transport.start(app.fetch);
    sample = await readGreedySample();
  });
  afterAll(() => started?.stop());

  it('chat: a user message without a chat template is the plain prompt; greedy gives the published continuation, with usage', async () => {
    const response = await postChat({ messages: [{ role: 'user', content: sample.prompt }], temperature: 0, max_tokens: sample.newTokens });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    expect(body.object).toBe('chat.completion');
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.model).toBe('generate');
    expect(body.choices).toEqual([{ index: 0, message: { role: 'assistant', content: sample.continuation, refusal: null }, logprobs: null, finish_reason: 'length' }]);
    expect(body.usage).toEqual({ prompt_tokens: sample.prompt_ids.length, completion_tokens: sample.newTokens, total_tokens: sample.prompt_ids.length + sample.newTokens });
    // Text parts are joined; the model id selects the same function as its name.
    const parts = await postChat({ model: 'tinystories-260k', messages: [{ role: 'user', content: [{ type: 'text', text: sample.prompt }] }], temperature: 0, max_completion_tokens: sample.newTokens });
    expect(((await parts.json()) as Json).choices[0].message.content).toBe(sample.continuation);
  });

  it('chat streaming: chunks whose deltas join to the same text, the finish reason, the usage and [DONE]', async () => {
    const response = await postChat({ messages: [{ role: 'user', content: sample.prompt }], temperature: 0, max_tokens: sample.newTokens, stream: true, stream_options: { include_usage: true } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = readServerSentEvents(await response.text());
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.data) as Json);
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.id === chunks[0].id)).toBe(true);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    const withChoices = chunks.filter((chunk) => chunk.choices.length > 0);
    expect(withChoices.map((chunk) => chunk.choices[0].delta.content ?? '').join('')).toBe(sample.continuation);
    expect(withChoices.at(-1)!.choices[0].finish_reason).toBe('length');
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toEqual({ prompt_tokens: sample.prompt_ids.length, completion_tokens: sample.newTokens, total_tokens: sample.prompt_ids.length + sample.newTokens });
  });

  it('chat: a stop string ends the answer before it, finish_reason stop; a seed makes sampling repeat', async () => {
    const stopped = (await (await postChat({ messages: [{ role: 'user', content: sample.prompt }], temperature: 0, max_tokens: sample.newTokens, stop: '.' })).json()) as Json;
    const cut = sample.continuation.slice(0, sample.continuation.indexOf('.'));
    expect(stopped.choices[0]).toMatchObject({ message: { content: cut }, finish_reason: 'stop' });
    const sampled = () => postChat({ messages: [{ role: 'user', content: 'Once upon a time' }], temperature: 1, top_p: 0.9, seed: 7, max_tokens: 24 }).then((r) => r.json() as Promise<Json>);
    const [first, second] = [await sampled(), await sampled()];
    expect(first.choices[0].message.content).toBe(second.choices[0].message.content);
  });

  it('chat logprobs: each token with its log-probability and the most likely alternatives; greedy picks the first', async () => {
    const body = (await (await postChat({ messages: [{ role: 'user', content: sample.prompt }], temperature: 0, max_tokens: 8, logprobs: true, top_logprobs: 3 })).json()) as Json;
    const content = body.choices[0].logprobs.content as { token: string; logprob: number; bytes: number[]; top_logprobs: { token: string; logprob: number }[] }[];
    expect(content).toHaveLength(8);
    expect(content.map((entry) => entry.token).join('')).toBe(body.choices[0].message.content);
    for (const entry of content) {
      expect(entry.top_logprobs).toHaveLength(3);
      expect(entry.top_logprobs[0].logprob).toBeCloseTo(entry.logprob, 6);
      expect(entry.top_logprobs[0].logprob).toBeGreaterThanOrEqual(entry.top_logprobs[1].logprob);
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.bytes).toEqual(Array.from(new TextEncoder().encode(entry.token)));
      expect(entry.top_logprobs.reduce((sum, top) => sum + Math.exp(top.logprob), 0)).toBeLessThanOrEqual(1 + 1e-6);
    }
  });

  it('chat: a presence penalty changes a greedy answer', async () => {
    const ask = (penalty: number) =>
      postChat({ messages: [{ role: 'user', content: sample.prompt }], temperature: 0, max_tokens: sample.newTokens, presence_penalty: penalty, frequency_penalty: penalty }).then(
        (r) => r.json() as Promise<Json>,
      );
    expect((await ask(0)).choices[0].message.content).toBe(sample.continuation);
    expect((await ask(2)).choices[0].message.content).not.toBe(sample.continuation);
  });

  it('completions: echo, several prompts as several choices, and streaming', async () => {
    const echoed = (await (await send('/v1/completions', postJson({ model: 'generate', prompt: sample.prompt, echo: true, temperature: 0, max_tokens: sample.newTokens }))).json()) as Json;
    expect(echoed.object).toBe('text_completion');
    expect(echoed.choices[0]).toMatchObject({ index: 0, text: sample.greedy_text, finish_reason: 'length' });
    const both = (await (await send('/v1/completions', postJson({ model: 'generate', prompt: [sample.prompt, 'Once upon a time'], temperature: 0, max_tokens: 4 }))).json()) as Json;
    expect(both.choices.map((choice: Json) => choice.index)).toEqual([0, 1]);
    expect(both.usage.completion_tokens).toBe(8);
    const withLogprobs = (await (await send('/v1/completions', postJson({ model: 'generate', prompt: sample.prompt, temperature: 0, max_tokens: 4, logprobs: 2 }))).json()) as Json;
    const { tokens, token_logprobs: tokenLogprobs, top_logprobs: topLogprobs, text_offset: offsets } = withLogprobs.choices[0].logprobs;
    expect(tokens.join('')).toBe(withLogprobs.choices[0].text);
    expect(tokenLogprobs).toHaveLength(4);
    expect(Object.keys(topLogprobs[0])).toHaveLength(2);
    expect(offsets[0]).toBe(0);
    const streamed = await send('/v1/completions', postJson({ model: 'generate', prompt: sample.prompt, temperature: 0, max_tokens: sample.newTokens, stream: true }));
    const events = readServerSentEvents(await streamed.text());
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.data) as Json);
    expect(chunks.map((chunk) => chunk.choices[0].text).join('')).toBe(sample.continuation);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('length');
  });

  it('response_format json_schema and json_object: the answer is decoded under the schema (no unconstrained answer)', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'], additionalProperties: false };
    const format = { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } };
    const body = (await (await postChat({ messages: [{ role: 'user', content: 'Once upon a time' }], temperature: 0, max_tokens: 24, response_format: format })).json()) as Json;
    expect(body.choices[0].finish_reason).toBe('stop');
    const parsed = JSON.parse(body.choices[0].message.content) as Json;
    expect(Object.keys(parsed)).toEqual(['ok']);
    expect(typeof parsed.ok).toBe('boolean');
    const object = (await (await postChat({ messages: [{ role: 'user', content: 'Once upon a time' }], temperature: 0, max_tokens: 48, response_format: { type: 'json_object' } })).json()) as Json;
    if (object.choices[0].finish_reason === 'stop') expect(typeof JSON.parse(object.choices[0].message.content)).toBe('object');
    else expect(object.choices[0].message.content.trimStart().startsWith('{')).toBe(true);
  });

  it('models: the functions that answer here, by name or model id', async () => {
    const list = (await (await send('/v1/models')).json()) as Json;
    expect(list.object).toBe('list');
    expect(list.data.map((model: Json) => model.id)).toEqual(['generate']);
    expect(list.data[0]).toMatchObject({ object: 'model', owned_by: 'honnx', honnx: { task: 'generate', model: 'tinystories-260k', state: 'ready' } });
    expect(((await (await send('/v1/models/tinystories-260k')).json()) as Json).id).toBe('generate');
    const missing = await send('/v1/models/gpt-4o');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Json).error).toMatchObject({ type: 'not_found_error', param: 'model', code: 'model_not_found' });
  });

  it('errors in OpenAI shape: an unknown model 404, a bad or unknown field 400 naming it, unsupported options said so', async () => {
    const cases: [Json, number, string | null, RegExp][] = [
      [{ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }, 404, 'model', /no function here serves model "gpt-4o"; models here: generate/],
      [{ model: 'classify', messages: [{ role: 'user', content: 'Hi' }] }, 400, 'model', /classify function/],
      [{ messages: [{ role: 'user', content: 'Hi' }] }, 400, 'model', /model is required/],
      [{ model: 'generate', messages: [{ role: 'user', content: 'Hi' }], temperature: 5 }, 400, 'temperature', /temperature/],
      [{ model: 'generate', messages: [{ role: 'user', content: 'Hi' }], best_answer: true }, 400, 'best_answer', /unknown field "best_answer"/],
      [{ model: 'generate', messages: [{ role: 'user', content: 'Hi' }], n: 2 }, 400, 'n', /one choice per request/],
      [{ model: 'generate', messages: [{ role: 'user', content: 'Hi' }], response_format: { type: 'xml' } }, 400, 'response_format', /response_format/],
      [{ model: 'generate', messages: [{ role: 'user', content: 'Hi' }], response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', pattern: '(a)\\1' } } } }, 400, null, /pattern.*backreference/],
      [{ model: 'generate', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 400, 'messages[0].content[0].type', /only "text"/],
      [{ model: 'generate', messages: [] }, 400, 'messages', /messages/],
      [{ model: 'generate', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 100_000 }, 413, null, /limit of 256/],
    ];
    for (const [body, status, param, message] of cases) {
      const response = await send('/v1/chat/completions', postJson(body));
      expect(response.status, JSON.stringify(body)).toBe(status);
      const { error } = (await response.json()) as Json;
      expect(error.param, JSON.stringify(body)).toBe(param);
      expect(error.message).toMatch(message);
      expect(typeof error.type).toBe('string');
      expect(typeof error.code).toBe('string');
    }
    const notJson = await send('/v1/chat/completions', postJson('{not json'));
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as Json).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
    const unknownPath = await send('/v1/assistants');
    expect(unknownPath.status).toBe(404);
    expect(((await unknownPath.json()) as Json).error.type).toBe('not_found_error');
    const completion = await send('/v1/completions', postJson({ model: 'generate', prompt: 'x', echo: true, logprobs: 1 }));
    expect(completion.status).toBe(400);
    expect(((await completion.json()) as Json).error.param).toBe('logprobs');
  });

  it("text-generation-inference's /health and /info", async () => {
    expect((await send('/health')).status).toBe(200);
    const info = (await (await send('/info')).json()) as Json;
    expect(info).toMatchObject({ model_id: 'tinystories-260k', router: 'honnx', max_total_tokens: 512 });
    expect(info.max_input_tokens).toBeGreaterThan(0);
  });
});
