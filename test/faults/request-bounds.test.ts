import { beforeAll, describe, expect, it } from 'vitest';
import { postJson, readErrorBody, type SendRequest } from '../support/requests.ts';
import { startDefaultFunctions } from './default-functions.ts';

/**
 * Issue 16, defect 1: every request's work is bounded before its session runs. Each case sends the largest body a
 * function's `maxBodyBytes` allows, filled with what costs the model most, and expects a 413 that names the limit;
 * the largest request each limit lets through is answered 200.
 */

/** A JSON body `{"inputs": <unit repeated>}` as close to `bytes` as whole units allow. */
function fillBody(unit: string, bytes: number, parameters?: object): string {
  const envelope = JSON.stringify({ inputs: '', ...(parameters ? { parameters } : {}) });
  return JSON.stringify({ inputs: unit.repeat(Math.floor((bytes - envelope.length) / unit.length)), ...(parameters ? { parameters } : {}) });
}

describe('the largest body each limit allows, on the default functions', () => {
  let send: SendRequest;
  let limitsOf: (name: string) => Record<string, number>;
  beforeAll(async () => {
    ({ send, limitsOf } = await startDefaultFunctions());
  }, 120_000);

  it('summarize: a body of one-word sentences is refused 413 for its sentence count, before any run', async () => {
    const { maxBodyBytes, maxSentences } = limitsOf('summarize');
    expect(maxSentences).toBeGreaterThan(0);
    const body = fillBody('a. ', maxBodyBytes);
    expect(body.length).toBeLessThanOrEqual(maxBodyBytes);
    const response = await send('/summarize', postJson(body));
    expect(response.status).toBe(413);
    const error = await readErrorBody(response);
    expect(error.message).toContain(`limit of ${maxSentences} sentences`);
  }, 60_000);

  it('summarize: as many sentences as the limit allows, each as long as the model reads, are answered', async () => {
    const { maxBodyBytes, maxSentences } = limitsOf('summarize');
    // Sentences as long as the body allows for one more than the limit (rows are cut to the model's 128 tokens).
    const words = 'Markets rallied sharply after the announcement of new measures ';
    const length = Math.floor((maxBodyBytes - 64) / (maxSentences + 1));
    const sentence = `${words.repeat(Math.ceil(length / words.length)).slice(0, length - 3).trim()}. `;
    const response = await send('/summarize', postJson({ inputs: sentence.repeat(maxSentences) }));
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { summary_text: string }[];
    expect(answer[0].summary_text.split('. ').length).toBe(3);
    const over = await send('/summarize', postJson({ inputs: sentence.repeat(maxSentences + 1) }));
    expect(over.status).toBe(413);
  }, 120_000);

  it.each([
    ['classify', 'great '],
    ['langid', 'wunderbar '],
    ['extract', 'Paris '],
  ])('%s: one input filling the body is refused 413 for its tokens', async (name, unit) => {
    const { maxBodyBytes } = limitsOf(name);
    const response = await send(`/${name}`, postJson(fillBody(unit, maxBodyBytes)));
    expect(response.status).toBe(413);
    // The limit is the function's maxInputTokens or the model's own length, whichever is smaller.
    expect((await readErrorBody(response)).message).toMatch(/(limit of|more than the) \d+/);
  }, 60_000);

  it('generate: a prompt filling the body is refused 413 for its tokens, and max_new_tokens over the limit too', async () => {
    const { maxBodyBytes, maxNewTokens } = limitsOf('generate');
    const response = await send('/generate', postJson(fillBody('Once upon a time ', maxBodyBytes)));
    expect(response.status).toBe(413);
    expect((await readErrorBody(response)).message).toMatch(/limit of \d+/);
    const tooMany = await send('/generate', postJson({ inputs: 'Once', parameters: { max_new_tokens: maxNewTokens + 1 } }));
    expect(tooMany.status).toBe(413);
    expect((await readErrorBody(tooMany)).message).toContain(`limit of ${maxNewTokens}`);
  }, 60_000);
});
