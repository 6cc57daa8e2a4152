import { InferenceClient } from '@huggingface/inference';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServerSettings } from '../../src/http/settings/server-settings.ts';
import type { SendRequest } from '../support/requests.ts';
import { transports } from '../support/transports.ts';
import { collectChatStream, createAppOf, readGreedySample } from './openai-app.ts';

const API_KEY = 'sk-honnx-test-0123456789abcdef';
const ORIGIN = 'http://honnx.test';

/** A `fetch` for the clients that sends through the transport under test, whatever origin they were given. */
const fetchThrough =
  (send: SendRequest): typeof fetch =>
  async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return send(`${url.pathname}${url.search}`, input instanceof Request ? { method: input.method, headers: input.headers, body: await input.text(), ...init } : init);
  };

// The official clients, unmodified, pointed at a honnx URL as their documentation says for a self-hosted server,
// with the server's API key. Both run against the fetch handler and a real Node server.
describe.each(transports)('OpenAI and Hugging Face clients against honnx ($name)', (transport) => {
  let started: { send: SendRequest; stop(): Promise<void> } | undefined;
  let sample: Awaited<ReturnType<typeof readGreedySample>>;
  let openai: OpenAI;
  let hf: InferenceClient;

  beforeAll(async () => {
    const server = resolveServerSettings({ environment: { HONNX_API_KEYS: API_KEY }, functions: [] });
    const { app } = await createAppOf(['generate'], { server });
    started = await transport.start(app.fetch);
    const clientFetch = fetchThrough((path, init) => started!.send(path, init));
    openai = new OpenAI({ apiKey: API_KEY, baseURL: `${ORIGIN}/v1`, fetch: clientFetch, maxRetries: 0 });
    hf = new InferenceClient(API_KEY, { fetch: clientFetch });
    sample = await readGreedySample();
  });
  afterAll(() => started?.stop());

  it('openai: chat.completions.create, without and with stream', async () => {
    const completion = await openai.chat.completions.create({ model: 'generate', messages: [{ role: 'user', content: sample.prompt }], temperature: 0, max_tokens: sample.newTokens });
    expect(completion.choices[0].message.content).toBe(sample.continuation);
    expect(completion.choices[0].finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(sample.newTokens);

    const stream = await openai.chat.completions.create({
      model: 'generate',
      messages: [{ role: 'user', content: sample.prompt }],
      temperature: 0,
      max_tokens: sample.newTokens,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, usage } = await collectChatStream(stream);
    expect(text).toBe(sample.continuation);
    expect(usage?.total_tokens).toBe(sample.prompt_ids.length + sample.newTokens);
  });

  it('openai: completions.create and models.list; a wrong key and an unknown model throw its typed errors', async () => {
    const completion = await openai.completions.create({ model: 'generate', prompt: sample.prompt, temperature: 0, max_tokens: sample.newTokens });
    expect(completion.choices[0].text).toBe(sample.continuation);
    const models = [];
    for await (const model of openai.models.list()) models.push(model.id);
    expect(models).toEqual(['generate']);
    expect((await openai.models.retrieve('generate')).owned_by).toBe('honnx');

    const unknown = openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] });
    await expect(unknown).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const badField = await openai.chat.completions.create({ model: 'generate', messages: [{ role: 'user', content: 'Hi' }], temperature: 9 }).catch((error: unknown) => error);
    expect(badField).toBeInstanceOf(OpenAI.BadRequestError);
    expect((badField as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('temperature');
    const stranger = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${ORIGIN}/v1`, fetch: fetchThrough(started!.send), maxRetries: 0 });
    await expect(stranger.chat.completions.create({ model: 'generate', messages: [{ role: 'user', content: 'Hi' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(stranger.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('@huggingface/inference: chatCompletion, chatCompletionStream and textGeneration on a self-hosted endpoint URL', async () => {
    const endpoint = hf.endpoint(ORIGIN);
    const answer = await endpoint.chatCompletion({ model: 'generate', messages: [{ role: 'user', content: sample.prompt }], temperature: 0, max_tokens: sample.newTokens });
    expect(answer.choices[0].message.content).toBe(sample.continuation);
    // Without a model the client sends the endpoint's URL, which picks the server's only generate function.
    let text = '';
    for await (const chunk of endpoint.chatCompletionStream({ messages: [{ role: 'user', content: sample.prompt }], temperature: 0, max_tokens: sample.newTokens })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe(sample.continuation);
    // textGeneration posts OpenAI's completions request to `<endpoint>/v1/completions`, its parameters passed through.
    const generated = await endpoint.textGeneration({ inputs: sample.prompt, parameters: { max_new_tokens: sample.newTokens, do_sample: false } });
    expect(generated.generated_text).toBe(sample.continuation);
  });
});
