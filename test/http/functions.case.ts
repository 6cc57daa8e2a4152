import { describe, expect, it } from 'vitest';
import { sampleRequest, servesShipped, type TestFunction } from '../support/function-set.ts';
import { postJson, readErrorBody, type SendRequest } from '../support/requests.ts';
import type { GreedySample } from '../support/tinystories-samples.ts';

/**
 * What the HTTP cases of the discovered functions (functions/*.ts, or the folder HONNX_TEST_FUNCTIONS names)
 * receive. The same cases run on Node (against the fetch handler and a real server, models in-thread or on a
 * worker thread) and inside workerd (against the worker's fetch); only this differs.
 * Loaded by workerd too, so this file and what it imports stay free of Node-only modules.
 */
export interface FunctionHttpContext {
  /** The functions the app serves, as discovery found them; known when the cases are declared. */
  functions: readonly TestFunction[];
  /** Sends to the app serving every one of them; may be called only once the suite's hooks have run. */
  send: SendRequest;
  /** Reads a file from the shared mirror (datasets, sanity.json). */
  readSharedText(path: string): Promise<string>;
  /** The engine and execution provider `GET /<function>` reports on this runtime. */
  engine: { name: string; executionProvider: string };
}


/**
 * Declares the HTTP cases of the discovered functions, for the runtime the context sends to: checks every function
 * gets whatever it is, and the checks of a shipped function's answers where the set serves it as shipped.
 */
export function functionHttpCases(context: FunctionHttpContext): void {
  const { send, functions } = context;
  const readSharedJson = async <T>(path: string): Promise<T> => JSON.parse(await context.readSharedText(path)) as T;
  const shipped = (name: Parameters<typeof servesShipped>[1]) => servesShipped(functions, name);

  it('answers liveness and readiness, with every discovered function ready', async () => {
    expect(functions.length).toBeGreaterThan(0);
    expect((await send('/healthz')).status).toBe(200);
    const ready = await send('/readyz');
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; functions: Record<string, string> };
    expect(body.status).toBe('ready');
    expect(body.functions).toEqual(Object.fromEntries(functions.map((fn) => [fn.name, 'ready'])));
  });

  describe.each(functions)('every function of the set: $name ($task on $model)', (fn) => {
    const route = `/${fn.name}`;

    it('says in GET what it is, ready, with its limits, and answers a plain request with a JSON list', async () => {
      const info = (await (await send(route)).json()) as Record<string, any>;
      expect(info).toMatchObject({ name: fn.name, route, task: fn.task, model: { name: fn.model }, state: 'ready', engine: context.engine.name });
      expect(info.limits.maxInputs).toBe(fn.limits.maxInputs);
      const answer = await send(route, postJson(sampleRequest(fn.task)));
      expect(answer.status, await answer.clone().text()).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/application\/json/);
      expect(Array.isArray(await answer.json())).toBe(true);
    });

    it('answers bad requests 4xx with a JSON error naming the field: empty input, unknown parameter, too many inputs, wrong method', async () => {
      const empty = await send(route, postJson({ inputs: '' }));
      expect(empty.status).toBe(400);
      expect((await readErrorBody(empty)).message).toMatch(/^inputs: /);
      const unknown = await send(route, postJson({ ...sampleRequest(fn.task), parameters: { no_such_parameter: 1 } }));
      expect(unknown.status).toBe(400);
      expect((await readErrorBody(unknown)).message).toMatch(/^parameters: unknown parameter "no_such_parameter"; allowed: /);
      const tooMany = await send(route, postJson({ inputs: Array.from({ length: fn.limits.maxInputs + 1 }, () => 'hi') }));
      expect(tooMany.status).toBe(413);
      expect(['too_many_inputs', 'body_too_large']).toContain((await readErrorBody(tooMany)).code);
      const wrongMethod = await send(route, { method: 'DELETE' });
      expect(wrongMethod.status).toBe(405);
    });
  });

  it.runIf(shipped('classify'))('classify: one list of labels per input, best first, as the Hugging Face API answers', async () => {
    const response = await send('/classify', postJson({ inputs: 'I love this' }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { label: string; score: number }[][];
    expect(body).toHaveLength(1);
    expect(body[0][0].label).toBe('POSITIVE');
    // sentiment-sst2-mini sanity.json: "I love this" → POSITIVE 0.99422.
    expect(body[0][0].score).toBeCloseTo(0.9942, 3);

    const batch = (await (await send('/classify', postJson({ inputs: ['I love this', 'I hate this'], parameters: { top_k: 1 } }))).json()) as {
      label: string;
    }[][];
    expect(batch.map((labels) => labels.map((entry) => entry.label))).toEqual([['POSITIVE'], ['NEGATIVE']]);
  });

  it.runIf(shipped('classify'))('GET /<function> says what the function is, its loaded model and the engine serving it', async () => {
    const info = (await (await send('/classify')).json()) as Record<string, any>;
    expect(info.task).toBe('classify');
    expect(info.model.name).toBe('sentiment-sst2-mini');
    expect(info.labels).toEqual(['NEGATIVE', 'POSITIVE']);
    expect(info.state).toBe('ready');
    expect(info.engine).toBe(context.engine.name);
    expect(info.execution_provider).toBe(context.engine.executionProvider);
    // One true limit: the function's 4096 tokens tightened to the model's own 128.
    expect(info.limits.maxInputTokens).toBe(128);
    expect(info.max_input_tokens).toBeUndefined();
    expect(info.limits.maxInputs).toBeGreaterThan(0);
  });

  it.runIf(shipped('langid'))('langid: top 3 languages', async () => {
    const body = (await (await send('/langid', postJson({ inputs: 'Ich liebe dieses Buch sehr.' }))).json()) as { label: string; score: number }[][];
    expect(body[0]).toHaveLength(3);
    expect(body[0][0].label).toBe('de');
    expect(body[0][0].score).toBeCloseTo(0.9991, 3);
  });

  it.runIf(shipped('summarize'))('summarize: the held-out article gives the summary its model README records', async () => {
    const raw = await context.readSharedText('datasets/bbc-news-summary/BBC News Summary/News Articles/business/026.txt');
    const article = raw.split('\n').slice(1).join('\n');
    const sanity = (await readSharedJson<{ cases: { summary_k3: string }[] }>('summarize-bbc-extractive/sanity.json')).cases[0];
    const answer = (await (await send('/summarize', postJson({ inputs: article }))).json()) as { summary_text: string }[];
    expect(answer).toEqual([{ summary_text: sanity.summary_k3 }]);
  });

  it.runIf(shipped('extract'))('extract: entities with offsets into the text, first-token aggregation by default', async () => {
    const text = 'Angela Merkel met Emmanuel Macron in Paris on Tuesday';
    const response = await send('/extract', postJson({ inputs: text }));
    expect(response.status).toBe(200);
    const entities = (await response.json()) as { entity_group: string; word: string; start: number; end: number; score: number }[];
    // The model README's sanity output for this sentence.
    expect(entities.map((entity) => [entity.entity_group, entity.word])).toEqual([
      ['PER', 'Angela Merkel'],
      ['PER', 'Emmanuel Macron'],
      ['LOC', 'Paris'],
    ]);
    for (const entity of entities) expect(text.slice(entity.start, entity.end)).toBe(entity.word);
    const batch = (await (await send('/extract', postJson({ inputs: [text, 'Nothing here.'] }))).json()) as unknown[][];
    expect(batch).toHaveLength(2);
    expect(batch[1]).toEqual([]);
  });

  it.runIf(shipped('generate'))('generate: the TinyStories greedy continuation, with or without the prompt, and the same text streamed as server-sent events', async () => {
    const sample = (await readSharedJson<{ greedy: GreedySample[] }>('tinystories-260k/sanity.json')).greedy[1];
    const request = { inputs: sample.prompt, parameters: { max_new_tokens: sample.max_new_tokens, do_sample: false } };
    const response = await send('/generate', postJson(request));
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { generated_text: string }[];
    expect(sample.prompt + answer[0].generated_text).toBe(sample.greedy_text);

    const withPrompt = await send('/generate', postJson({ ...request, parameters: { ...request.parameters, return_full_text: true } }));
    expect(withPrompt.status).toBe(200);
    expect(await withPrompt.json()).toEqual([{ generated_text: sample.greedy_text }]);

    const streamed = await send('/generate', postJson({ ...request, stream: true }));
    expect(streamed.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = (await streamed.text())
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => JSON.parse(line.slice(5)) as { token: { text: string }; generated_text: string | null });
    expect(events).toHaveLength(sample.max_new_tokens);
    expect(events.map((event) => event.token.text).join('')).toBe(answer[0].generated_text);
    expect(events.at(-1)!.generated_text).toBe(answer[0].generated_text);
  });

  // Sent to the shipped classify function; `every function of the set` sends the same kinds to each function.
  describe.runIf(shipped('classify'))('errors are JSON with the right status', () => {
    it('400 for malformed JSON, wrong types, empty input and unknown parameters', async () => {
      const malformed = await send('/classify', postJson('{"inputs": "unterminated'));
      expect(malformed.status).toBe(400);
      expect((await readErrorBody(malformed)).code).toBe('invalid_json');

      const wrongType = await send('/classify', postJson({ inputs: 42 }));
      expect(wrongType.status).toBe(400);
      expect((await readErrorBody(wrongType)).code).toBe('invalid_inputs');

      const empty = await send('/classify', postJson({ inputs: '' }));
      expect(empty.status).toBe(400);
      expect((await readErrorBody(empty)).message).toMatch(/empty/);

      const unknown = await send('/classify', postJson({ inputs: 'hi', parameters: { top_kk: 2 } }));
      expect(unknown.status).toBe(400);
      expect((await readErrorBody(unknown)).code).toBe('invalid_parameters');

      const notObject = await send('/classify', postJson('[1, 2]'));
      expect(notObject.status).toBe(400);
      const extraKey = await send('/classify', postJson({ inputs: 'hi', input: 'typo' }));
      expect(extraKey.status).toBe(400);
      const missing = await send('/classify', postJson({ parameters: {} }));
      expect(missing.status).toBe(400);
    });

    it('404 for an unknown function, naming every route there is, 405 for a wrong method', async () => {
      const notFound = await send('/nope', postJson({ inputs: 'hi' }));
      expect(notFound.status).toBe(404);
      const message = (await readErrorBody(notFound)).message;
      expect(message).toMatch(/\/classify/);
      for (const fn of functions) expect(message).toContain(`/${fn.name}`);
      const wrongMethod = await send('/classify', { method: 'DELETE' });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
    });

    it.runIf(shipped('summarize'))('413 for input over the token limit or the body limit, and for too many inputs', async () => {
      const tooManyTokens = await send('/classify', postJson({ inputs: 'good '.repeat(300) }));
      expect(tooManyTokens.status).toBe(413);
      expect((await readErrorBody(tooManyTokens)).message).toMatch(/truncation/);
      const truncated = await send('/classify', postJson({ inputs: 'good '.repeat(300), parameters: { truncation: true } }));
      expect(truncated.status).toBe(200);

      const tooBig = await send('/summarize', postJson({ inputs: 'A sentence. '.repeat(30_000) }));
      expect(tooBig.status).toBe(413);
      expect((await readErrorBody(tooBig)).code).toBe('body_too_large');

      const tooMany = await send('/classify', postJson({ inputs: Array.from({ length: 65 }, () => 'hi') }));
      expect(tooMany.status).toBe(413);
    });

    it('415 for a body that is not JSON', async () => {
      const response = await send('/classify', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'I love this' });
      expect(response.status).toBe(415);
      expect((await readErrorBody(response)).code).toBe('unsupported_media_type');
    });

    it.runIf(shipped('generate'))('413 when generation asks for more new tokens than the function allows', async () => {
      const response = await send('/generate', postJson({ inputs: 'Once', parameters: { max_new_tokens: 100_000 } }));
      expect(response.status).toBe(413);
      expect((await readErrorBody(response)).message).toMatch(/max_new_tokens/);
    });

    it('keeps answering normally after bad requests', async () => {
      const response = await send('/classify', postJson({ inputs: 'I hate this' }));
      expect(response.status).toBe(200);
      expect(((await response.json()) as { label: string }[][])[0][0].label).toBe('NEGATIVE');
    });
  });
}
