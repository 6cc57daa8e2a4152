import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { generateEndpoint } from '../../src/endpoints/generate-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { createLogger } from '../../src/http/logging/logger.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { createFunctionHost, type FunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { streamText } from '../../src/tasks/generate/generate-text.ts';
import { createTextGenerator, type TextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { compileResponseFormat } from '../../src/tasks/structured/response-format.ts';
import { postJson, type SendRequest } from '../support/requests.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';
import { transports } from '../support/transports.ts';
import { readConfidenceCount } from '../support/confidence-metric.ts';
import { readGreedySample } from './openai-app.ts';

type Json = Record<string, any>;

const PERSON = { type: 'object', properties: { name: { type: 'string', maxLength: 12 }, happy: { type: 'boolean' } }, required: ['name', 'happy'], additionalProperties: false };

describe('the /v1 routes log and count their answers\' confidence (tinystories-260k)', () => {
  let host: FunctionHost;
  let generator: TextGenerator;
  let sample: Awaited<ReturnType<typeof readGreedySample>>;
  /** The published greedy continuation's confidence: exp of its mean log-probability in a teacher-forced run. */
  let greedyConfidence: number;
  const lines: Record<string, unknown>[] = [];
  let app: ReturnType<typeof createHonnxApp>;
  beforeAll(async () => {
    const bundle = await loadModelBundle(mirrorModelFiles('tinystories-260k'), createNodeEngine({ threads: 1 }));
    const fn = defineFunction({ task: generateEndpoint, model: 'tinystories-260k', limits: { maxNewTokens: 64 } });
    host = createFunctionHost('generate', fn.definition, async () => bundle);
    await host.load();
    generator = await createTextGenerator(bundle);
    sample = await readGreedySample();
    const continuation = sample.greedy_ids.slice(sample.prompt_ids.length);
    const [logprobs] = await generator.model.scoreContinuations!(sample.prompt_ids, [continuation]);
    greedyConfidence = Math.exp(logprobs.reduce((sum, logprob) => sum + logprob, 0) / logprobs.length);
    app = createHonnxApp({ functions: [{ fn, host }], logger: createLogger({ level: 'info', write: (line) => void lines.push(JSON.parse(line)) }) });
  }, 60_000);
  afterAll(() => host?.release());

  for (const transport of transports) {
    describe(`over the ${transport.name}`, () => {
      let send: SendRequest;
      let stop: () => Promise<void>;
      let sequence = 0;
      beforeAll(async () => {
        ({ send, stop } = await transport.start(app.fetch));
      });
      afterAll(() => stop());

      /** Sends a request under a fresh id and returns its body's text and, once written, its log line. */
      async function sendLogged(path: string, body: Json): Promise<{ text: string; line: Record<string, unknown> }> {
        const id = `confidence-${transport.name.replace(/\W/g, '-')}-${sequence++}`;
        const response = await send(path, { ...postJson(body), headers: { 'content-type': 'application/json', 'x-request-id': id } });
        expect(response.status).toBe(200);
        const text = await response.text();
        await vi.waitFor(() => expect(lines.find((line) => line.request_id === id)).toBeDefined());
        return { text, line: lines.find((line) => line.request_id === id)! };
      }
      const countNow = () => readConfidenceCount(send, 'generate');

      it('chat completions, streamed and not: the geometric mean of the greedy tokens, in the log line and the metric', async () => {
        const before = await countNow();
        const chat = { model: 'generate', messages: [{ role: 'user', content: sample.prompt }], temperature: 0, max_tokens: sample.newTokens };
        const plain = await sendLogged('/v1/chat/completions', chat);
        expect((JSON.parse(plain.text) as Json).choices[0].message.content).toBe(sample.continuation);
        expect(plain.line).toMatchObject({ path: '/v1/chat/completions', function: 'generate', status: 200 });
        expect(plain.line.confidence).toBeCloseTo(greedyConfidence, 4);
        const streamed = await sendLogged('/v1/chat/completions', { ...chat, stream: true });
        expect(streamed.text).toContain('data: [DONE]');
        expect(streamed.text).not.toContain('confidence');
        expect(streamed.line).toMatchObject({ streamed: 'complete' });
        expect(streamed.line.confidence).toBeCloseTo(greedyConfidence, 4);
        expect(await countNow()).toBe(before + 2);
      });

      it('completions with two prompts log the lower confidence and count both; a stream counts its one', async () => {
        const before = await countNow();
        const completion = { model: 'generate', prompt: [sample.prompt, 'Tom had a'], temperature: 0, max_tokens: sample.newTokens };
        const both = await sendLogged('/v1/completions', completion);
        expect((JSON.parse(both.text) as Json).choices[0].text).toBe(sample.continuation);
        expect(both.line.confidence).toBeLessThanOrEqual(Math.round(greedyConfidence * 10_000) / 10_000);
        expect(both.line.confidence).toBeGreaterThan(0);
        const streamed = await sendLogged('/v1/completions', { ...completion, prompt: sample.prompt, stream: true });
        expect(streamed.line.confidence).toBeCloseTo(greedyConfidence, 4);
        expect(await countNow()).toBe(before + 3);
      });

      it('under response_format json_schema: the lowest token probability after the mask, as generative extract reads it', async () => {
        const format = { type: 'json_schema', json_schema: { name: 'person', schema: PERSON } } as const;
        const chat = { model: 'generate', messages: [{ role: 'user', content: 'Tom was happy.' }], temperature: 0, max_tokens: 48, response_format: format };
        const { text, line } = await sendLogged('/v1/chat/completions', chat);
        const answer = JSON.parse(text) as Json;
        expect(answer.choices[0].structured).toMatchObject({ valid: true });
        // The same greedy generation, straight: each token event's probability is under the masked distribution.
        const endIds = new Set(generator.defaults.eosTokenIds);
        const probabilities: number[] = [];
        let generated = '';
        for await (const event of streamText(generator, 'Tom was happy.', { grammar: compileResponseFormat(format, generator.tokenizer), doSample: false, maxNewTokens: 48 })) {
          if (event.kind === 'token' && !endIds.has(event.id)) probabilities.push(Math.exp(event.logprob!));
          if (event.kind === 'done') generated = event.generatedText;
        }
        expect(generated).toBe(answer.choices[0].message.content);
        expect(line.confidence).toBeCloseTo(Math.min(...probabilities), 4);
      });

      it('POST /generate pays for it only when asked: return_confidence shows it, otherwise the line has none', async () => {
        const parameters = { max_new_tokens: sample.newTokens, do_sample: false };
        const quiet = await sendLogged('/generate', { inputs: sample.prompt, parameters });
        expect(quiet.line.confidence).toBeUndefined();
        const shown = await sendLogged('/generate', { inputs: sample.prompt, parameters: { ...parameters, return_confidence: true, min_confidence: 0.99 } });
        const [answer] = JSON.parse(shown.text) as Json[];
        expect(answer.generated_text).toBe(sample.continuation);
        expect(answer.confidence).toBeCloseTo(greedyConfidence, 6);
        expect(answer.low_confidence).toBe(true);
        expect(shown.line).toMatchObject({ low_confidence: true });
      });
    });
  }
});
