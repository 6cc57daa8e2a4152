import { cpus, loadavg } from 'node:os';
import { chooseNextToken, type ChoiceOptions } from '../../src/tasks/generate/choose-next-token.ts';
import { logSumExp } from '../../src/tasks/generate/log-sum-exp.ts';
import { createSeededRandom } from '../../src/tasks/generate/seeded-random.ts';
import { referenceChoice } from '../../test/support/reference-sampler.ts';
import { measureDecodeStep } from './decode-step.ts';

/*
 * Per-token cost of choosing the next token at vocabulary sizes 32,000 (Llama 2) and 151,936 (Qwen), for the
 * processor chain against the whole-row sorting it replaced, and both against a decode step (decode-step.ts).
 * Also the softmax normaliser a chosen token's log-probability needs (every /v1 answer's confidence, logprobs):
 * logSumExp against the Math.exp loop it replaced.
 * Usage: node bin/run-ts.mjs bench/sampling/run.ts [--no-step]
 */

/** The normaliser as it was computed before log-sum-exp.ts: two passes, Math.exp per score. */
function mathExpLogSumExp(scores: Float32Array): number {
  let max = -Infinity;
  for (const score of scores) if (score > max) max = score;
  let sum = 0;
  for (const score of scores) sum += Math.exp(score - max);
  return max + Math.log(sum);
}

const SETTINGS: { name: string; options: ChoiceOptions }[] = [
  { name: 'greedy', options: { sampling: false, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 } },
  { name: 'sample T=0.8', options: { sampling: true, temperature: 0.8, topK: 0, topP: 1, repetitionPenalty: 1 } },
  { name: 'top_k=50', options: { sampling: true, temperature: 0.8, topK: 50, topP: 1, repetitionPenalty: 1 } },
  { name: 'top_p=0.9', options: { sampling: true, temperature: 0.8, topK: 0, topP: 0.9, repetitionPenalty: 1 } },
  { name: 'top_k=50 top_p=0.9 penalty=1.1', options: { sampling: true, temperature: 0.7, topK: 50, topP: 0.9, repetitionPenalty: 1.1 } },
];

/** Rows shaped like a language model's: a few likely tokens over a long, flat tail (Gumbel-like noise plus a peak). */
function modelLikeRows(vocabulary: number, count: number): Float32Array[] {
  const random = createSeededRandom(17);
  return Array.from({ length: count }, () => {
    const row = Float32Array.from({ length: vocabulary }, () => -Math.log(-Math.log(random() + 1e-12)) * 1.5);
    for (let peak = 0; peak < 20; peak++) row[Math.floor(random() * vocabulary)] += 8 + random() * 6;
    return row;
  });
}

function microsecondsPerChoice(rows: Float32Array[], choose: (row: Float32Array, step: number) => void, minimumMs = 400): number {
  for (let step = 0; step < 3; step++) choose(rows[step % rows.length], step);
  let steps = 0;
  const start = performance.now();
  while (performance.now() - start < minimumMs) choose(rows[steps % rows.length], steps++);
  return ((performance.now() - start) / steps) * 1000;
}

const withStep = !process.argv.includes('--no-step');
console.log(`node ${process.version}, ${cpus().length} cores, load ${loadavg().map((load) => load.toFixed(2)).join(' ')} at start`);
for (const vocabulary of [32_000, 151_936]) {
  const rows = modelLikeRows(vocabulary, 8);
  const sequence = Array.from({ length: 200 }, (_, index) => (index * 7919) % vocabulary);
  const stepMs = withStep ? await measureDecodeStep(vocabulary, 20) : undefined;
  console.log(`\nvocabulary ${vocabulary}` + (stepMs ? `: decode-step stand-in (q4 qwen3-0.6b projections + head) ${stepMs.toFixed(1)} ms` : ''));
  console.log('setting'.padEnd(34) + 'chain µs'.padStart(10) + 'sorting µs'.padStart(12) + 'speed-up'.padStart(10) + (stepMs ? '% of step'.padStart(11) : ''));
  for (const { name, options } of SETTINGS) {
    const scratch = new Float64Array(vocabulary);
    const ours = createSeededRandom(1);
    const theirs = createSeededRandom(1);
    const chain = microsecondsPerChoice(rows, (row) => chooseNextToken(row, sequence, options, ours, { scratch }));
    const sorting = microsecondsPerChoice(rows, (row) => referenceChoice(row, sequence, options, theirs));
    const share = stepMs ? `${((chain / 1000 / stepMs) * 100).toFixed(2)}%`.padStart(11) : '';
    console.log(name.padEnd(34) + chain.toFixed(0).padStart(10) + sorting.toFixed(0).padStart(12) + `${(sorting / chain).toFixed(1)}×`.padStart(10) + share);
  }
  const fast = microsecondsPerChoice(rows, (row) => logSumExp(row));
  const exact = microsecondsPerChoice(rows, (row) => mathExpLogSumExp(row));
  const normaliserShare = stepMs ? `${((fast / 1000 / stepMs) * 100).toFixed(2)}%`.padStart(11) : '';
  console.log('log-probability normaliser'.padEnd(34) + fast.toFixed(0).padStart(10) + exact.toFixed(0).padStart(12) + `${(exact / fast).toFixed(1)}×`.padStart(10) + normaliserShare + '  (logSumExp; Math.exp loop)');
}
console.log(`\nload ${loadavg().map((load) => load.toFixed(2)).join(' ')} at end`);
