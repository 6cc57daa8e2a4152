import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import type { FunctionHost } from '../../src/serving/function-host.ts';
import type { TextTokenizer } from '../../src/text/tokenizer.ts';
import { postJson, sendThrough, type SendRequest } from '../support/requests.ts';
import { mirrorFolder } from '../support/shared-models.ts';

/**
 * Issue 16: a prompt filling generate's 256 KB body took 7-8 s of CPU to tokenize before its 413. A text longer
 * than maxInputTokens times the most characters one token stands for cannot fit, so it is refused before any
 * tokenizer sees it, with a 413 that states the character limit, on every task whose token limit refuses inputs
 * and on the /v1 routes (a conversation's messages summed).
 */
const projectRoot = join(import.meta.dirname, '../..');

let send: SendRequest;
const hosts = new Map<string, FunctionHost>();

beforeAll(async () => {
  const functions = (await discoverFunctions(join(projectRoot, 'functions'))).filter((named) => ['classify', 'extract', 'generate'].includes(named.name));
  const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
  const created = createNodeApp({ functions, engine: createNodeEngine({ threads: 1 }), searchPaths });
  await created.ready();
  for (const host of created.hosts) hosts.set(host.name, host);
  send = sendThrough(created.app.fetch);
}, 120_000);

afterEach(() => {
  vi.restoreAllMocks();
});

/** Counts every call into a function's tokenizer (the models run on this thread). */
function countTokenizerCalls(name: string): () => number {
  const tokenizer = hosts.get(name)!.model()!.tokenizer!;
  const spies = [vi.spyOn(tokenizer, 'encode'), vi.spyOn(tokenizer, 'encodeWithOffsets')];
  return () => spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
}

/** The function's character limit per input, as the server derives it: its token limit times its tokenizer's figure. */
async function characterLimitOf(name: string): Promise<{ limit: number; tokens: number }> {
  const { limits } = (await (await send(`/${name}`)).json()) as { limits: { maxInputTokens: number; maxBodyBytes: number } };
  const tokenizer: TextTokenizer = hosts.get(name)!.model()!.tokenizer!;
  return { limit: limits.maxInputTokens * tokenizer.charactersPerToken(), tokens: limits.maxInputTokens };
}

async function readMessage(response: Response): Promise<string> {
  return ((await response.json()) as { error: { message: string } }).error.message;
}

const bodyBytesOf = async (name: string) => ((await (await send(`/${name}`)).json()) as { limits: { maxBodyBytes: number } }).limits.maxBodyBytes;

describe('an input too long in characters to fit the token limit', () => {
  it.each([
    ['generate', 'Once upon a time '],
    ['classify', 'great '],
    ['extract', 'Paris '],
  ])('%s: one filling the body is refused 413 with the character limit, and no tokenizer runs', async (name, unit) => {
    const text = unit.repeat(Math.floor(((await bodyBytesOf(name)) - 64) / unit.length));
    const calls = countTokenizerCalls(name);
    const response = await send(`/${name}`, postJson({ inputs: text }));
    expect(response.status).toBe(413);
    expect(calls()).toBe(0);
    const { limit, tokens } = await characterLimitOf(name);
    expect(text.length).toBeGreaterThan(limit);
    expect(await readMessage(response)).toBe(
      `the input is ${text.length} characters, over this function's limit of ${limit} characters: it cannot fit in limits.maxInputTokens (${tokens}) tokens of at most ${limit / tokens} characters each`,
    );
  }, 60_000);

  it('generate: one long text in a list of prompts refuses the request before any is tokenized', async () => {
    const { limit } = await characterLimitOf('generate');
    const calls = countTokenizerCalls('generate');
    const response = await send('/generate', postJson({ inputs: ['Once upon a time', 'a'.repeat(limit + 1)] }));
    expect(response.status).toBe(413);
    expect(await readMessage(response)).toContain(`inputs[1]: the input is ${limit + 1} characters, over this function's limit of ${limit} characters`);
    expect(calls()).toBe(0);
  });

  it('/v1/chat/completions: messages each under the limit but over it together are refused 413, untokenized', async () => {
    const { limit } = await characterLimitOf('generate');
    const half = 'Tom had a dog. '.repeat(Math.ceil(limit / 2 / 15));
    expect(half.length).toBeLessThan(limit);
    const calls = countTokenizerCalls('generate');
    const response = await send(
      '/v1/chat/completions',
      postJson({ model: 'generate', messages: [{ role: 'user', content: half }, { role: 'assistant', content: [{ type: 'text', text: half }] }], max_tokens: 4 }),
    );
    expect(response.status).toBe(413);
    const message = await readMessage(response);
    expect(message).toContain(`the input is ${2 * half.length} characters, over this function's limit of ${limit} characters`);
    expect(calls()).toBe(0);
  });

  it('/v1/completions: a prompt over the limit is refused 413, untokenized', async () => {
    const { limit } = await characterLimitOf('generate');
    const calls = countTokenizerCalls('generate');
    const response = await send('/v1/completions', postJson({ model: 'generate', prompt: 'b'.repeat(limit + 1), max_tokens: 4 }));
    expect(response.status).toBe(413);
    expect(await readMessage(response)).toContain(`over this function's limit of ${limit} characters`);
    expect(calls()).toBe(0);
  });

  it('at exactly the character limit, the text goes on to the tokenizer (the bound refuses only what cannot fit)', async () => {
    const { limit } = await characterLimitOf('generate');
    const calls = countTokenizerCalls('generate');
    const response = await send('/generate', postJson({ inputs: 'c'.repeat(limit), parameters: { max_new_tokens: 1 } }));
    expect(calls()).toBeGreaterThan(0);
    // Refused (or answered) for its tokens, not for its characters.
    expect(response.status === 200 || !(await readMessage(response)).includes('characters')).toBe(true);
  });

  it('classify with truncation: true cuts a long text instead: answered 200', async () => {
    const { limit } = await characterLimitOf('classify');
    const response = await send('/classify', postJson({ inputs: 'great '.repeat(Math.ceil(limit / 6) + 1), parameters: { truncation: true } }));
    expect(response.status).toBe(200);
  });
});
