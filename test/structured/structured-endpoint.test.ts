import { beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { generateEndpoint } from '../../src/endpoints/generate-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';

const post = (body: unknown) =>
  new Request('http://honnx.test/story', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const person = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: 10 }, happy: { type: 'boolean' } },
  required: ['name', 'happy'],
  additionalProperties: false,
};

describe('generate with a grammar over HTTP (tinystories-260k)', () => {
  let fetch: (request: Request) => Response | Promise<Response>;
  beforeAll(async () => {
    const fn = defineFunction({ task: generateEndpoint, model: 'tinystories-260k', limits: { maxNewTokens: 64 } });
    const host = createFunctionHost('story', fn.definition, () => loadModelBundle(mirrorModelFiles('tinystories-260k'), createNodeEngine({ threads: 1 })));
    await host.load();
    fetch = createHonnxApp({ functions: [{ fn, host }] }).fetch;
  });

  it.each([
    ['response_format json_schema', { response_format: { type: 'json_schema', json_schema: { name: 'person', schema: person, strict: true } } }],
    ['TGI grammar', { grammar: { type: 'json', value: person } }],
  ])('answers JSON that matches the schema (%s)', async (_name, grammar) => {
    const response = await fetch(post({ inputs: 'Once upon a time', parameters: { max_new_tokens: 64, seed: 3, temperature: 0.8, details: true, ...grammar } }));
    expect(response.status).toBe(200);
    const [answer] = (await response.json()) as { generated_text: string; structured: { valid: boolean }; details: { finish_reason: string } }[];
    expect(answer.details.finish_reason).toBe('eos_token');
    const value = JSON.parse(answer.generated_text);
    // The parsed value comes with the answer, as JSON.parse reads the text.
    expect(answer.structured).toEqual({ complete: true, valid: true, value });
    expect(Object.keys(value)).toEqual(['name', 'happy']);
    expect(typeof value.happy).toBe('boolean');
  });

  it('answers json_object with a JSON object', async () => {
    const response = await fetch(post({ inputs: 'Once upon a time', parameters: { max_new_tokens: 64, response_format: { type: 'json_object' } } }));
    const [answer] = (await response.json()) as { generated_text: string; structured: { valid: boolean; complete: boolean } }[];
    if (answer.structured.complete) expect(JSON.parse(answer.generated_text)).toBeTypeOf('object');
    else expect(answer.structured.valid).toBe(false);
  });

  it('refuses an unsupported keyword with a 400 that names it, before generating', async () => {
    const schema = { type: 'object', properties: { host: { type: 'string', format: 'hostname' } } };
    const response = await fetch(post({ inputs: 'Once', parameters: { response_format: { type: 'json_schema', json_schema: { schema } } } }));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toContain('"format"');
    expect(body.error.message).toContain('#/properties/host');
    expect(body.error.message).toContain('supported formats: date, time, date-time, email, uuid, ipv4, uri');
  });

  it.each([
    ['a backreference', '^(a)\\1$', 'backreference'],
    ['a lookahead', '^(?=a)\\w+$', 'lookahead'],
  ])('refuses a pattern with %s with a 400 that names the keyword and what is allowed', async (_name, pattern, feature) => {
    const schema = { type: 'object', properties: { code: { type: 'string', pattern } } };
    const response = await fetch(post({ inputs: 'Once', parameters: { grammar: { type: 'json', value: schema } } }));
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toContain('"pattern" at #/properties/code');
    expect(error.message).toContain(feature);
    expect(error.message).toContain('supported: literals, escapes, character classes');
  });

  it('answers a string that matches its pattern', async () => {
    const schema = { type: 'object', properties: { code: { type: 'string', pattern: '^[A-Z]{2}-\\d{3}$' }, day: { type: 'string', format: 'date' } }, required: ['code', 'day'] };
    const response = await fetch(post({ inputs: 'Once upon a time', parameters: { max_new_tokens: 64, seed: 5, temperature: 1, grammar: { type: 'json', value: schema } } }));
    const [answer] = (await response.json()) as { structured: { valid: boolean; value: { code: string; day: string } } }[];
    expect(answer.structured.valid).toBe(true);
    expect(answer.structured.value.code).toMatch(/^[A-Z]{2}-\d{3}$/);
    expect(answer.structured.value.day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('says an answer cut by max_new_tokens is not valid', async () => {
    const response = await fetch(post({ inputs: 'Once', parameters: { max_new_tokens: 3, details: true, grammar: { type: 'json', value: person } } }));
    const [answer] = (await response.json()) as { structured: { valid: boolean; complete: boolean }; details: { finish_reason: string } }[];
    expect(answer.details.finish_reason).toBe('length');
    expect(answer.structured).toMatchObject({ complete: false, valid: false });
  });
});
