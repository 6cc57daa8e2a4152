import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { postJson, transports, type SendRequest } from '../support/transports.ts';

const projectRoot = join(import.meta.dirname, '../..');

async function readErrorBody(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(typeof body.error.code).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

describe.each(transports)('default functions over HTTP ($name)', (transport) => {
  let send: SendRequest;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const functions = await discoverFunctions(join(projectRoot, 'functions'));
    const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
    const { app, ready } = createNodeApp({ functions, engine: createNodeEngine({ threads: 1 }), searchPaths });
    await ready();
    ({ send, stop } = await transport.start(app.fetch));
  });
  afterAll(() => stop());

  it('answers liveness and readiness', async () => {
    expect((await send('/healthz')).status).toBe(200);
    const ready = await send('/readyz');
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; functions: Record<string, string> };
    expect(body.status).toBe('ready');
    expect(Object.keys(body.functions).sort()).toEqual(['classify', 'extract', 'generate', 'langid', 'summarize']);
  });

  it('classify: one list of labels per input, best first, as the Hugging Face API answers', async () => {
    const response = await send('/classify', postJson({ inputs: 'I love this' }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { label: string; score: number }[][];
    expect(body).toHaveLength(1);
    expect(body[0][0].label).toBe('POSITIVE');
    expect(body[0][0].score).toBeCloseTo(0.9942, 3);

    const batch = (await (await send('/classify', postJson({ inputs: ['I love this', 'I hate this'], parameters: { top_k: 1 } }))).json()) as {
      label: string;
    }[][];
    expect(batch.map((labels) => labels.map((entry) => entry.label))).toEqual([['POSITIVE'], ['NEGATIVE']]);
  });

  it('GET /<function> says what the function is', async () => {
    const info = (await (await send('/classify')).json()) as Record<string, any>;
    expect(info.task).toBe('classify');
    expect(info.model.name).toBe('sentiment-sst2-mini');
    expect(info.labels).toEqual(['NEGATIVE', 'POSITIVE']);
    expect(info.state).toBe('ready');
    expect(info.max_input_tokens).toBe(128);
    expect(info.limits.maxInputs).toBeGreaterThan(0);
  });

  it('langid: top 3 languages', async () => {
    const body = (await (await send('/langid', postJson({ inputs: 'Ich liebe dieses Buch sehr.' }))).json()) as { label: string; score: number }[][];
    expect(body[0]).toHaveLength(3);
    expect(body[0][0].label).toBe('de');
    expect(body[0][0].score).toBeCloseTo(0.9991, 3);
  });

  it('summarize: the held-out article gives the summary its model README records', async () => {
    const raw = await readFile(join(mirrorFolder, 'datasets/bbc-news-summary/BBC News Summary/News Articles/business/026.txt'), 'utf8');
    const body = raw.split('\n').slice(1).join('\n');
    const sanity = JSON.parse(await readFile(join(mirrorFolder, 'summarize-bbc-extractive/sanity.json'), 'utf8')).cases[0];
    const answer = (await (await send('/summarize', postJson({ inputs: body }))).json()) as { summary_text: string }[];
    expect(answer).toEqual([{ summary_text: sanity.summary_k3 }]);
  });

  it('extract: entities with offsets into the text, first-token aggregation by default', async () => {
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

  it('generate: the TinyStories greedy continuation, and the same text streamed as server-sent events', async () => {
    const sanity = JSON.parse(await readFile(join(mirrorFolder, 'tinystories-260k/sanity.json'), 'utf8')).greedy[1];
    const request = { inputs: sanity.prompt, parameters: { max_new_tokens: sanity.max_new_tokens, do_sample: false } };
    const answer = (await (await send('/generate', postJson(request))).json()) as { generated_text: string }[];
    expect(sanity.prompt + answer[0].generated_text).toBe(sanity.greedy_text);

    const streamed = await send('/generate', postJson({ ...request, stream: true }));
    expect(streamed.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = (await streamed.text())
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => JSON.parse(line.slice(5)) as { token: { text: string }; generated_text: string | null });
    expect(events).toHaveLength(sanity.max_new_tokens);
    expect(events.map((event) => event.token.text).join('')).toBe(answer[0].generated_text);
    expect(events.at(-1)!.generated_text).toBe(answer[0].generated_text);
  });

  describe('errors are JSON with the right status', () => {
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

    it('404 for an unknown function, 405 for a wrong method', async () => {
      const notFound = await send('/nope', postJson({ inputs: 'hi' }));
      expect(notFound.status).toBe(404);
      expect((await readErrorBody(notFound)).message).toMatch(/\/classify/);
      const wrongMethod = await send('/classify', { method: 'DELETE' });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
    });

    it('413 for input over the token limit or the body limit, and for too many inputs', async () => {
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

    it('413 when generation asks for more new tokens than the function allows', async () => {
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
});
