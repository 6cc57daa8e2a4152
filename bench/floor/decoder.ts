import { createBenchCases } from '../cases.ts';
import { int64Tensor, openSession, openTokenizer, ort, printResult } from './open-session.ts';

/*
 * Raw floor of greedy generation: a minimal loop on `session.run` with the key/value cache, argmax in plain JS,
 * exactly `maxNewTokens` new tokens (end-of-sequence is not checked; the orchestrator compares texts to make
 * sure the served runs generated the same tokens). No HTTP, no sampling machinery, no incremental decoding.
 * Usage: decoder.ts <function name of the case> <warm-up seconds> <seconds>
 */

const [functionName, warmUpSeconds, seconds] = process.argv.slice(2);
const benchCase = createBenchCases().find((candidate) => candidate.functionName === functionName);
if (benchCase?.kind !== 'generation') throw new Error(`no generation bench case named ${functionName}`);
const { model, prompt, maxNewTokens } = benchCase;
const session = await openSession(model);
const tokenizer = openTokenizer(model);
const promptIds = tokenizer.encode(prompt).ids;

const pastNames = session.inputNames.filter((name) => name.startsWith('past_key_values.'));
const presentName = (pastName: string) => pastName.replace('past_key_values.', 'present.');
// [batch, kv heads, past length, head dim] with past length 0 on the first step.
const emptyPast = new ort.Tensor('float32', new Float32Array(0), [1, 4, 0, 8]);

function argmaxOfLastRow(logits: ort.Tensor): number {
  const [, length, vocabulary] = logits.dims;
  const data = logits.data as Float32Array;
  let best = 0;
  for (let index = 1, offset = (length - 1) * vocabulary; index < vocabulary; index++) {
    if (data[offset + index] > data[offset + best]) best = index;
  }
  return best;
}

async function generate(): Promise<number[]> {
  const generated: number[] = [];
  let stepIds = promptIds;
  let past: Record<string, ort.Tensor> = Object.fromEntries(pastNames.map((name) => [name, emptyPast]));
  let position = 0;
  while (generated.length < maxNewTokens) {
    const total = position + stepIds.length;
    const outputs = await session.run({
      input_ids: int64Tensor(stepIds, [1, stepIds.length]),
      attention_mask: int64Tensor(new Array<number>(total).fill(1), [1, total]),
      position_ids: int64Tensor(stepIds.map((_, index) => position + index), [1, stepIds.length]),
      ...past,
    });
    const next = argmaxOfLastRow(outputs.logits);
    generated.push(next);
    past = Object.fromEntries(pastNames.map((name) => [name, outputs[presentName(name)]]));
    position = total;
    stepIds = [next];
  }
  return generated;
}

/** Runs for a while; returns each run's latency and the CPU the whole process used meanwhile. */
async function runFor(durationSeconds: number): Promise<{ latenciesMs: number[]; cpuMs: number }> {
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const until = performance.now() + durationSeconds * 1000;
  while (performance.now() < until) {
    const started = performance.now();
    await generate();
    latencies.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { latenciesMs: latencies, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const ids = await generate();
await runFor(Number(warmUpSeconds));
printResult({
  ...(await runFor(Number(seconds))),
  tokensPerRequest: maxNewTokens,
  generatedText: tokenizer.decode(ids, { skip_special_tokens: true }),
});
