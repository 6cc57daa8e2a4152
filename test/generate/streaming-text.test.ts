import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createIncrementalTextDecoder } from '../../src/tasks/generate/incremental-text.ts';
import { createStopStringFilter } from '../../src/tasks/generate/stop-strings.ts';
import { createTokenizer, type TextTokenizer } from '../../src/text/tokenizer.ts';
import { mirrorFolder } from '../support/shared-models.ts';

describe('stop strings', () => {
  it('cuts the text just before the first stop string, even when it arrives split over pieces', () => {
    const filter = createStopStringFilter(['\n\n', 'END']);
    const released = ['Hello', ' wor', 'ld E', 'N'].map((piece) => filter.push(piece));
    expect(released.map((step) => step.text)).toEqual(['Hello', ' wor', 'ld ', '']);
    expect(released.every((step) => !step.stopped)).toBe(true);
    const last = filter.push('D and more');
    expect(last).toEqual({ text: '', stopped: true });
    expect(filter.text).toBe('Hello world ');
  });

  it('releases a false start once it stops matching, and everything on flush', () => {
    const filter = createStopStringFilter(['END']);
    expect(filter.push('an E').text).toBe('an ');
    expect(filter.push('ND'.slice(0, 1)).text).toBe('');
    expect(filter.push('x').text).toBe('ENx');
    expect(filter.push(' E').text).toBe(' ');
    expect(filter.flush()).toBe('E');
    expect(filter.text).toBe('an ENx E');
  });

  it('picks the earliest of several stop strings', () => {
    const filter = createStopStringFilter(['b c', 'a']);
    expect(filter.push('xx a b c')).toEqual({ text: 'xx ', stopped: true });
  });
});

describe('incremental decoding (tinystories-260k tokenizer)', () => {
  let tokenizer: TextTokenizer;
  let parity: { text: string; ids: number[] }[];
  beforeAll(async () => {
    const folder = join(mirrorFolder, 'tinystories-260k');
    const read = async (name: string) => JSON.parse(await readFile(join(folder, name), 'utf8'));
    tokenizer = createTokenizer(await read('tokenizer.json'), await read('tokenizer_config.json'), await read('config.json'));
    parity = (await read('sanity.json')).tokenizer_parity_vs_llama2c_run_c;
  });

  it('emits whole characters only, when an emoji is spread over byte-fallback tokens', () => {
    // "émoji 🐱 test": the cat is four byte tokens (<0xF0><0x9F><0x90><0xB1> = ids 243 162 147 180).
    const { text, ids } = parity.find((entry) => entry.text.includes('🐱'))!;
    const decoder = createIncrementalTextDecoder(tokenizer, ids.slice(0, 1));
    const deltas = ids.slice(1).map((id) => decoder.push(id));
    deltas.push(decoder.flush());
    expect(deltas.join('')).toBe(text);
    for (const delta of deltas) expect(delta).not.toContain('\uFFFD');
    expect(deltas).toContain('🐱');
    expect(deltas.filter((delta) => delta === '').length).toBeGreaterThanOrEqual(3);
  });

  it('keeps the space before a continuation, which decoding it alone would strip', () => {
    // Context "<s> Lily saw" (ids 1 317 394); the next token, "▁a", decoded alone would lose its space.
    const { ids } = parity.find((entry) => entry.text === 'Lily saw a big red ball in the park.')!;
    const decoder = createIncrementalTextDecoder(tokenizer, ids.slice(0, 3));
    const rest = ids.slice(3).map((id) => decoder.push(id)).join('') + decoder.flush();
    expect(tokenizer.decode(ids.slice(0, 3)) + rest).toBe('Lily saw a big red ball in the park.');
    expect(rest.startsWith(' ')).toBe(true);
  });

  it('deferred, gives nothing per token and the same text at the end, spaces and split characters included', () => {
    for (const { text, ids } of parity.filter((entry) => entry.text.includes('🐱') || entry.text.startsWith('Lily saw'))) {
      const decoder = createIncrementalTextDecoder(tokenizer, ids.slice(0, 3), { deferred: true });
      expect(ids.slice(3).map((id) => decoder.push(id)).every((delta) => delta === '')).toBe(true);
      expect(tokenizer.decode(ids.slice(0, 3)) + decoder.flush()).toBe(text);
    }
  });
});
