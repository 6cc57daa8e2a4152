import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { summarizeEndpoint } from '../../src/endpoints/summarize-endpoint.ts';
import type { GenerateStreamEvent } from '../../src/endpoints/generate-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { createLogger } from '../../src/http/logging/logger.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle, type ModelBundle } from '../../src/models/model-bundle.ts';
import { createFunctionHost, type FunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { logSumExp } from '../../src/tasks/generate/log-sum-exp.ts';
import { encodePrompt } from '../../src/tasks/generate/generate-text.ts';
import { buildSummaryPrompt, createGenerativeSummarizer, summarizeGeneratively, type GenerativeSummarizer } from '../../src/tasks/summarize/generative.ts';
import { tinyModelPath } from '../fixtures/tiny-models.ts';
import { readConfidenceCount } from '../support/confidence-metric.ts';
import { postJson } from '../support/requests.ts';
import { readServerSentEvents } from '../support/server-sent-events.ts';
import { transports } from '../support/transports.ts';

// The text of the transformers.js comparison in test/generate/transformers-reference.test.ts.
const TEXT = 'The movie was wonderful and the actors were great. I really did not like the ending.';
// A penalty keeps the random-weight model from repeating one token (as in that comparison); no max_new_tokens, so the config's max_length applies.
const PENALIZED = { repetition_penalty: 2, return_confidence: true };
const GREEDY = { max_new_tokens: 12, do_sample: false, return_confidence: true };

async function readStream(response: Response): Promise<GenerateStreamEvent[]> {
  return readServerSentEvents(await response.text()).map((block) => JSON.parse(block.data) as GenerateStreamEvent);
}

/**
 * The summary's tokens scored by the model under teacher forcing, without the KV cache (the whole decoder sequence
 * run again at every step): exp of the mean log-probability, end of sequence left out as the confidence does.
 */
async function scoreByTeacherForcing(summarizer: GenerativeSummarizer, ids: readonly number[]): Promise<number> {
  const { generator } = summarizer;
  const decoding = await generator.model.start(encodePrompt(generator, buildSummaryPrompt(summarizer, TEXT)), { useCache: false });
  const eos = new Set(generator.defaults.eosTokenIds);
  const logprobs: number[] = [];
  for (const id of ids) {
    const scores = await decoding.nextScores();
    if (!eos.has(id)) logprobs.push(scores[id] - logSumExp(scores));
    decoding.push(id);
  }
  return Math.exp(logprobs.reduce((sum, logprob) => sum + logprob, 0) / logprobs.length);
}

describe('generative summarize on an encoder-decoder (tiny-t5-encoder-decoder), served', () => {
  let bundle: ModelBundle;
  let summarizer: GenerativeSummarizer;
  let host: FunctionHost;
  let app: ReturnType<typeof createHonnxApp>;
  const lines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    bundle = await loadModelBundle(createFolderModelFiles(tinyModelPath('tiny-t5-encoder-decoder')), createNodeEngine({ threads: 1 }));
    summarizer = await createGenerativeSummarizer(bundle);
    const fn = defineFunction({ task: summarizeEndpoint, model: 'tiny-t5-encoder-decoder' });
    host = createFunctionHost('brief', fn.definition, async () => bundle);
    await host.load();
    const logger = createLogger({ level: 'info', write: (line) => void lines.push(JSON.parse(line)) });
    app = createHonnxApp({ functions: [{ fn, host }], logger });
  }, 60_000);
  afterAll(async () => {
    await host?.release();
    await summarizer?.generator.model.release();
  });

  it('says in GET /<function> that it reads an encoder-decoder behind the config prefix, and streams', async () => {
    const description = (await (await app.request('/brief')).json()) as Record<string, unknown>;
    expect(description).toMatchObject({ kind: 'generative', model_kind: 'encoder-decoder', kv_cache: true, prefix: 'summarize: ', streaming: true });
  });

  it('refuses the prompt parameters an encoder-decoder does not read (sentences, use_chat_template, system_prompt), naming them', async () => {
    for (const parameters of [{ sentences: 2 }, { use_chat_template: true }, { system_prompt: 'Be brief.' }]) {
      const response = await app.request('/brief', postJson({ inputs: TEXT, parameters }));
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { message: string } };
      expect(error.message).toContain(`parameter ${Object.keys(parameters)[0]} does not apply to this encoder-decoder summarizer`);
    }
  });

  for (const transport of transports) {
    describe(`over the ${transport.name}`, () => {
      let send: (path: string, init?: RequestInit) => Promise<Response>;
      let stop: () => Promise<void>;
      beforeAll(async () => {
        ({ send, stop } = await transport.start(app.fetch));
      });
      afterAll(() => stop());

      it('answers the task-level summary (prefix, max_length - 1 tokens), streamed or not, with the same confidence', async () => {
        const expected = await summarizeGeneratively(summarizer, TEXT, { repetitionPenalty: 2 });
        expect(expected.tokenIds).toHaveLength(31);
        expect(expected.generatedText.length).toBeGreaterThan(0);

        const plainResponse = await send('/brief', postJson({ inputs: TEXT, parameters: PENALIZED }));
        expect(plainResponse.status).toBe(200);
        const [plain] = (await plainResponse.json()) as { summary_text: string; confidence: number }[];
        expect(plain.summary_text).toBe(expected.generatedText);
        expect(plain.confidence).toBeCloseTo(expected.confidence, 12);
        expect(plain.confidence).toBeGreaterThan(0);
        expect(plain.confidence).toBeLessThan(1);

        const response = await send('/brief', postJson({ inputs: TEXT, parameters: PENALIZED, stream: true }));
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
        const events = await readStream(response);
        expect(events.map((event) => event.token.id)).toEqual(expected.tokenIds);
        expect(events.map((event) => event.token.text).join('')).toBe(plain.summary_text);
        expect(events.slice(0, -1).every((event) => event.generated_text === null && event.confidence === undefined)).toBe(true);
        const last = events.at(-1)!;
        expect(last.generated_text).toBe(plain.summary_text);
        expect(last.confidence).toBeCloseTo(plain.confidence, 12);

        // The prefix is what makes the answer the task-level one: the text alone is summarized otherwise.
        const [unprefixed] = (await (await send('/brief', postJson({ inputs: TEXT, parameters: { ...PENALIZED, prompt_template: '{{input}}' } }))).json()) as { summary_text: string }[];
        expect(unprefixed.summary_text).toBe((await summarizeGeneratively(summarizer, TEXT, { repetitionPenalty: 2, template: '{{input}}' })).generatedText);
        expect(unprefixed.summary_text).not.toBe(plain.summary_text);
      });

      it("gives greedy summaries a confidence equal to the teacher-forced geometric mean of the summary's tokens", async () => {
        const [plain] = (await (await send('/brief', postJson({ inputs: TEXT, parameters: GREEDY }))).json()) as { summary_text: string; confidence: number }[];
        const events = await readStream(await send('/brief', postJson({ inputs: TEXT, parameters: GREEDY, stream: true })));
        expect(events.map((event) => event.token.text).join('')).toBe(plain.summary_text);
        const last = events.at(-1)!;
        expect(last).toMatchObject({ generated_text: plain.summary_text });
        expect(last.confidence).toBeCloseTo(plain.confidence, 12);
        expect(last.confidence).toBeCloseTo(await scoreByTeacherForcing(summarizer, events.map((event) => event.token.id)), 5);
      });

      it("logs and counts the confidence of a streamed and of a plain summary, shown or not", async () => {
        for (const stream of [false, true]) {
          const before = await readConfidenceCount(send, 'brief');
          const id = `t5-${stream ? 'stream' : 'plain'}-${transport.name.replace(/\W/g, '-')}`;
          const response = await send('/brief', { ...postJson({ inputs: TEXT, parameters: { repetition_penalty: 2, min_confidence: 1 }, stream }), headers: { 'content-type': 'application/json', 'x-request-id': id } });
          expect(response.status).toBe(200);
          const body = await response.text();
          expect(body).not.toContain('confidence');
          await vi.waitFor(() => expect(lines.find((line) => line.request_id === id)).toBeDefined());
          const line = lines.find((entry) => entry.request_id === id)!;
          expect(line).toMatchObject({ function: 'brief', status: 200, low_confidence: true, ...(stream && { streamed: 'complete' }) });
          expect(line.confidence).toBeGreaterThan(0);
          expect(line.confidence).toBeLessThan(1);
          expect(await readConfidenceCount(send, 'brief')).toBe(before + 1);
        }
      });
    });
  }
});
