import { Validator } from '@cfworker/json-schema';
import type { TextTokenizer } from '../../text/tokenizer.ts';
import type { ScoreRow } from '../generate/score-row.ts';
import type { ConstraintSource, TokenConstraint } from '../generate/token-constraint.ts';
import { END, isAccepting, push, stackKey, startValue, type Stack } from './json-frames.ts';
import { contentClassTrie } from './content-class-trie.ts';
import { compileJsonGrammar, listPatterns, type GrammarNode } from './json-grammar.ts';
import { advanceAll, computeTokenMask, type FrameMask, type TokenMask } from './token-mask.ts';
import { indexVocabulary, type VocabularyIndex } from './token-trie.ts';

/** A grammar compiled for one tokenizer: shared by every request with the same schema, masks cached inside. */
export interface CompiledGrammar extends ConstraintSource {
  readonly schema: unknown;
  /**
   * Milliseconds the schema took to compile, its patterns' content class tries included (the vocabulary index is
   * built once per tokenizer, apart; a pattern's trie once per pattern and tokenizer, shared by later schemas).
   */
  readonly compileMs: number;
  /** Masks computed and reused so far, for the bench. */
  readonly cacheStatistics: { hits: number; misses: number };
}

/** OpenAPI's `nullable: true`, which the engine honours, as the `type` list a JSON Schema validator reads. */
function withNullableAsType(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withNullableAsType);
  if (!schema || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) copy[key] = key === 'const' || key === 'enum' || key === 'default' || key === 'examples' ? value : withNullableAsType(value);
  if (copy.nullable === true && copy.type !== undefined) {
    const types = Array.isArray(copy.type) ? copy.type : [copy.type];
    copy.type = types.includes('null') ? types : [...types, 'null'];
  }
  delete copy.nullable;
  return copy;
}

/** Cached masks per grammar; a state seen again (inside a long string, the next array item) costs a lookup. */
const MASK_CACHE_LIMIT = 2048;

function applyMask(row: ScoreRow, mask: TokenMask): void {
  const { scores } = row;
  if (mask.ids) {
    // Few allowed ids: the row is narrowed to them (and to the candidates it already had).
    const candidates = row.candidates;
    if (!candidates) {
      row.candidates = mask.ids.filter((id) => id < scores.length);
    } else {
      row.candidates = candidates.filter((id) => id < mask.bits.length * 32 && (mask.bits[id >>> 5] >>> (id & 31)) & 1);
    }
  } else {
    const { bits } = mask;
    // A word at a time: a wide mask is mostly whole words of allowed ids, left as they are.
    for (let base = 0; base < scores.length; base += 32) {
      const word = base >>> 5 < bits.length ? bits[base >>> 5] : 0;
      if (word === 0xffffffff) continue;
      const end = Math.min(base + 32, scores.length);
      if (word === 0) {
        for (let id = base; id < end; id++) scores[id] = -Infinity;
        continue;
      }
      // The refused ids of a mixed word, lowest first: one step per refused id, not per id.
      for (let refused = ~word & (end - base === 32 ? 0xffffffff : (1 << (end - base)) - 1); refused !== 0; refused &= refused - 1) {
        scores[base + 31 - Math.clz32(refused & -refused)] = -Infinity;
      }
    }
  }
  row.weights = undefined;
}

function compileGrammar(schema: unknown, root: GrammarNode, index: VocabularyIndex, tokenizer: TextTokenizer, compileMs: number): CompiledGrammar {
  const masks = new Map<string, TokenMask>();
  const frameMasks = new Map<string, FrameMask>();
  const cacheStatistics = { hits: 0, misses: 0 };
  const validator = new Validator(withNullableAsType(schema) as object, '2020-12', true);
  const vocabulary = tokenizer.tokenBytes();
  const maskOf = (states: readonly Stack[], endIds: readonly number[]): TokenMask => {
    const key = states.map(stackKey).sort().join('\n');
    let mask = masks.get(key);
    if (mask) {
      cacheStatistics.hits++;
      return mask;
    }
    cacheStatistics.misses++;
    mask = computeTokenMask(index, states, endIds, frameMasks);
    if (masks.size >= MASK_CACHE_LIMIT) masks.clear();
    masks.set(key, mask);
    return mask;
  };

  return {
    schema,
    compileMs,
    cacheStatistics,
    start(endIds): TokenConstraint {
      const initial: Stack[] = [];
      startValue(root, push(END, null), initial);
      let states: Stack[] = initial;
      const ends = new Set(endIds);
      let ended = false;
      const written: number[] = [];
      const decoder = new TextDecoder();
      return {
        name: 'json_schema',
        apply(row) {
          applyMask(row, maskOf(states, endIds));
        },
        accept(id) {
          if (ends.has(id)) {
            ended = true;
            return;
          }
          const bytes = vocabulary.bytesOf(id);
          if (!bytes || ended) throw new Error(`the constraint was given token ${id}, which its mask refused`);
          let next: Stack[] = states;
          for (const byte of bytes) next = advanceAll(next, byte);
          if (next.length === 0) throw new Error(`the constraint was given token ${id}, which its mask refused`);
          states = next;
          written.push(...bytes);
        },
        mustEnd() {
          if (ended) return true;
          const mask = maskOf(states, endIds);
          // Nothing allowed at all (a vocabulary that cannot spell what the grammar needs) ends it too, unfinished.
          return mask.count === 0 || (mask.accepting && mask.count === [...ends].filter((id) => id >= 0 && id < index.size).length);
        },
        text: () => decoder.decode(Uint8Array.from(written)),
        result() {
          const complete = states.some(isAccepting);
          if (!complete) return { complete, valid: false, error: 'the answer ended before its JSON value did (out of tokens)' };
          let value: unknown;
          try {
            value = JSON.parse(decoder.decode(Uint8Array.from(written)));
          } catch (error) {
            return { complete, valid: false, error: `not JSON: ${(error as Error).message}` };
          }
          const checked = validator.validate(value);
          if (!checked.valid) return { complete, valid: false, error: checked.errors.map((entry) => `${entry.instanceLocation}: ${entry.error}`).join('; ') };
          return { complete, valid: true, value };
        },
      };
    },
  };
}

/** Compiled grammars per tokenizer and schema text: a schema is compiled once however many requests use it. */
const compiled = new WeakMap<TextTokenizer, Map<string, CompiledGrammar>>();
const GRAMMAR_CACHE_LIMIT = 256;

/**
 * Compiles a JSON Schema into a constraint for this tokenizer's vocabulary, or returns the one compiled before.
 * An unsupported keyword throws `UnsupportedSchemaError` (an `InputError`: a 400 naming the keyword).
 */
export function compileJsonSchema(schema: unknown, tokenizer: TextTokenizer): CompiledGrammar {
  let perTokenizer = compiled.get(tokenizer);
  if (!perTokenizer) compiled.set(tokenizer, (perTokenizer = new Map()));
  const key = JSON.stringify(schema);
  const known = perTokenizer.get(key);
  if (known) return known;
  const index = indexVocabulary(tokenizer.tokenBytes());
  const start = performance.now();
  const root = compileJsonGrammar(schema);
  // Each pattern's content class trie is built here, once per pattern and vocabulary, not on the first token.
  for (const pattern of listPatterns(root)) contentClassTrie(index, pattern);
  const grammar = compileGrammar(schema, root, index, tokenizer, performance.now() - start);
  if (perTokenizer.size >= GRAMMAR_CACHE_LIMIT) perTokenizer.clear();
  perTokenizer.set(key, grammar);
  return grammar;
}
