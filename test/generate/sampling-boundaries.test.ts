import { beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { generateEndpoint } from '../../src/endpoints/generate-endpoint.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { postJson, readErrorBody, sendThrough, type SendRequest } from '../support/requests.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';

/**
 * Issue 16, defect 6 and 9: the edges of every sampling parameter, over HTTP on tinystories-260k. A parameter at
 * the edge of what is allowed gives the answer its limit implies (greedy for a vanishing temperature or top-p, or
 * top_k 1); one past it is a 400 naming the parameter, or a 413 for max_new_tokens over the function's limit.
 */
const MAX_NEW_TOKENS = 24;
const prompt = 'Once upon a time, there was a dog';

describe('generate: the boundaries of every sampling parameter', () => {
  let send: SendRequest;
  let greedy: string;
  const generate = async (parameters: Record<string, unknown>, inputs: unknown = prompt) => send('/story', postJson({ inputs, parameters }));
  const generatedText = async (parameters: Record<string, unknown>) => {
    const response = await generate({ max_new_tokens: 16, ...parameters });
    expect(response.status, JSON.stringify(parameters)).toBe(200);
    return ((await response.json()) as { generated_text: string }[])[0].generated_text;
  };

  beforeAll(async () => {
    const fn = defineFunction({ task: generateEndpoint, model: 'tinystories-260k', limits: { maxNewTokens: MAX_NEW_TOKENS } });
    const engine = createNodeEngine({ threads: 1 });
    const host = createFunctionHost('story', fn.definition, () => loadModelBundle(mirrorModelFiles('tinystories-260k'), engine));
    await host.load();
    send = sendThrough(createHonnxApp({ functions: [{ fn, host }] }).fetch);
    greedy = await generatedText({ do_sample: false });
    // The greedy story is words, not the filler a broken distribution draws.
    expect(greedy).toMatch(/[a-z]{3,} [a-z]{3,}/);
  });

  it.each([1e-308, Number.MIN_VALUE, 1e-30, 1e-12])('temperature %s samples as greedy decoding does (the limit as it falls to 0)', async (temperature) => {
    expect(await generatedText({ do_sample: true, temperature, seed: 7 })).toBe(greedy);
  });

  it('temperature 0 is greedy, a huge one still answers words, a negative one is refused', async () => {
    expect(await generatedText({ temperature: 0, seed: 3 })).toBe(greedy);
    expect((await generatedText({ do_sample: true, temperature: 1e308, seed: 3 })).length).toBeGreaterThan(0);
    const negative = await generate({ temperature: -1e-308 });
    expect(negative.status).toBe(400);
    expect((await readErrorBody(negative)).message).toContain('parameters.temperature');
  });

  it('top_k 1 is greedy; 0, null and a huge k keep every token; negative and fractional ones are refused', async () => {
    expect(await generatedText({ do_sample: true, top_k: 1, seed: 11 })).toBe(greedy);
    const all = await generatedText({ do_sample: true, top_k: 0, seed: 11 });
    expect(await generatedText({ do_sample: true, top_k: null, seed: 11 })).toBe(all);
    expect(await generatedText({ do_sample: true, top_k: Number.MAX_SAFE_INTEGER, seed: 11 })).toBe(all);
    for (const top_k of [-1, 1.5, 1e300]) expect((await generate({ top_k })).status, String(top_k)).toBe(400);
  });

  it('a vanishing top_p keeps only the best token (greedy); 1 keeps all; 0 and over 1 are refused', async () => {
    expect(await generatedText({ do_sample: true, top_p: Number.MIN_VALUE, seed: 5 })).toBe(greedy);
    expect(await generatedText({ do_sample: true, top_p: 1, seed: 5 })).toBe(await generatedText({ do_sample: true, seed: 5 }));
    for (const top_p of [0, -0.5, 1.0000001]) {
      const response = await generate({ top_p });
      expect(response.status, String(top_p)).toBe(400);
      expect((await readErrorBody(response)).message).toContain('parameters.top_p');
    }
  });

  it('repetition_penalty at its extremes gives its limit, sampled or greedy; 0 and below are refused', async () => {
    const promptCharacters = new Set(prompt);
    for (const do_sample of [false, true]) {
      for (const repetition_penalty of [1e-308, Number.MIN_VALUE]) {
        // Every token already seen is favoured beyond measure, so only the prompt's tokens are chosen (a NaN
        // distribution instead draws the vocabulary's last token, a hair space, every time).
        const text = await generatedText({ do_sample, repetition_penalty, seed: 2 });
        expect([...text].filter((character) => !promptCharacters.has(character)), `${repetition_penalty} ${do_sample}: ${JSON.stringify(text)}`).toEqual([]);
      }
      const penalized = await generatedText({ do_sample, repetition_penalty: 1e308, seed: 2 });
      expect(new Set(penalized.replace(/\s/g, '')).size, JSON.stringify(penalized)).toBeGreaterThan(2);
    }
    for (const repetition_penalty of [0, -1]) expect((await generate({ repetition_penalty })).status).toBe(400);
  });

  it('max_new_tokens: 1 gives one token, the limit is allowed, one over it is 413 and 0 is 400', async () => {
    const one = await generate({ max_new_tokens: 1, details: true });
    expect(((await one.json()) as { details: { generated_tokens: number } }[])[0].details.generated_tokens).toBe(1);
    const atLimit = await generate({ max_new_tokens: MAX_NEW_TOKENS, details: true });
    expect(atLimit.status).toBe(200);
    const over = await generate({ max_new_tokens: MAX_NEW_TOKENS + 1 });
    expect(over.status).toBe(413);
    expect((await readErrorBody(over)).message).toContain(`limit of ${MAX_NEW_TOKENS}`);
    for (const max_new_tokens of [0, -1, 1.5]) expect((await generate({ max_new_tokens })).status).toBe(400);
  });

  it('seed: 0 and 2^53 - 1 reproduce their answers; negative and fractional seeds are refused', async () => {
    for (const seed of [0, Number.MAX_SAFE_INTEGER]) {
      expect(await generatedText({ do_sample: true, seed })).toBe(await generatedText({ do_sample: true, seed }));
    }
    for (const seed of [-1, 0.5, 2 ** 53]) expect((await generate({ do_sample: true, seed })).status, String(seed)).toBe(400);
  });

  it('an empty or missing prompt is refused 400, as every other task refuses empty inputs', async () => {
    const empty = await generate({}, '');
    expect(empty.status).toBe(400);
    expect((await readErrorBody(empty)).message).toContain('inputs');
  });
});
