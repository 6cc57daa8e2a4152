import { beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { generateEndpoint, type GenerateStreamEvent } from '../../src/endpoints/generate-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { postJson, sendThrough, type SendRequest } from '../support/requests.ts';
import { readServerSentEvents } from '../support/server-sent-events.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';

const person = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: 10 }, age: { type: 'integer', minimum: 0, maximum: 99 }, happy: { type: 'boolean' } },
  required: ['name', 'age', 'happy'],
  additionalProperties: false,
};

/** A JSON text's value as it arrives over the wire (JSON.parse keeps -0, which JSON.stringify writes as 0). */
const readWireValue = (text: string): unknown => JSON.parse(JSON.stringify(JSON.parse(text)));

/** Each text so far is the start of the final one: no chunk is taken back or rewritten. */
function expectGrowingPrefixes(pieces: readonly string[], final: string): void {
  let text = '';
  for (const piece of pieces) {
    text += piece;
    expect(final.startsWith(text), `${JSON.stringify(text)} is not a prefix of ${JSON.stringify(final)}`).toBe(true);
  }
  expect(text).toBe(final);
}

describe('constrained answers, streamed (tinystories-260k)', () => {
  let send: SendRequest;
  beforeAll(async () => {
    const fn = defineFunction({ task: generateEndpoint, model: 'tinystories-260k', limits: { maxNewTokens: 64 } });
    const host = createFunctionHost('story', fn.definition, () => loadModelBundle(mirrorModelFiles('tinystories-260k'), createNodeEngine({ threads: 1 })));
    await host.load();
    send = sendThrough(createHonnxApp({ functions: [{ fn, host }] }).fetch);
  });

  it('ends a generate stream with the parsed value, every chunk a prefix of the JSON answer', async () => {
    let checked = 0;
    for (const seed of [1, 2, 3, 4]) {
      const response = await send('/story', postJson({ inputs: 'Once upon a time', stream: true, parameters: { max_new_tokens: 64, seed, temperature: 0.9, details: true, grammar: { type: 'json', value: person } } }));
      expect(response.status).toBe(200);
      const events = readServerSentEvents(await response.text()).map(({ data }) => JSON.parse(data) as GenerateStreamEvent);
      const last = events.at(-1)!;
      expect(events.slice(0, -1).every((event) => event.structured === undefined)).toBe(true);
      expectGrowingPrefixes(events.filter((event) => !event.token.special).map((event) => event.token.text), last.generated_text!);
      if (last.details!.finish_reason === 'length') {
        expect(last.structured).toMatchObject({ complete: false, valid: false });
        continue;
      }
      expect(last.structured).toEqual({ complete: true, valid: true, value: readWireValue(last.generated_text!) });
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('ends a /v1 chat stream under response_format with the parsed value, as the answer that is not streamed', async () => {
    const body = {
      model: 'story',
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 64,
      temperature: 0.9,
      seed: 3,
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema: person } },
    };
    const streamed = await send('/v1/chat/completions', postJson({ ...body, stream: true }));
    expect(streamed.status).toBe(200);
    const chunks = readServerSentEvents(await streamed.text())
      .filter(({ data }) => data !== '[DONE]')
      .map(({ data }) => JSON.parse(data) as { choices: { delta: { content?: string }; finish_reason: string | null; structured?: unknown }[] });
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expectGrowingPrefixes(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? ''), content);
    const finished = chunks.at(-1)!.choices[0];
    expect(finished.finish_reason).toBe('stop');
    expect(finished.structured).toEqual({ complete: true, valid: true, value: readWireValue(content) });

    const whole = (await (await send('/v1/chat/completions', postJson(body))).json()) as { choices: { message: { content: string }; structured: unknown }[] };
    expect(whole.choices[0].message.content).toBe(content);
    expect(whole.choices[0].structured).toEqual(finished.structured);
  });
});
