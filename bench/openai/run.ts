/**
 * The OpenAI surface against the function route on one `honnx serve`: streaming tok/s of greedy tokens, and the
 * per-request cost of a one-token answer, interleaved request by request so that both see the same machine load.
 * Each round times both routes back to back, so the ratio of a round compares like with like. The median of those
 * paired ratios comes with a bootstrap 95% confidence interval: the target (/v1 at most 2% slower) is met when the
 * interval's upper end is at most 1.02, and missed when its lower end is above 1.02. With `--server-pid`, the server's own CPU time per request
 * (every thread's /proc schedstat, in nanoseconds) is compared the same way: it does not count waiting for a core,
 * so it stays readable when other work shares the machine.
 * Usage: start `honnx serve --function generate`, then
 * `node bin/run-ts.mjs bench/openai/run.ts http://127.0.0.1:PORT [--rounds 400] [--tokens 200] [--server-pid PID]`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '400' }, tokens: { type: 'string', default: '200' }, 'server-pid': { type: 'string' } },
});
const origin = positionals[0] ?? 'http://127.0.0.1:8787';
const rounds = Number(values.rounds);
const streamTokens = Number(values.tokens);
const serverPid = values['server-pid'];
const PROMPT = 'Once upon a time, there was a dog';

interface Route {
  name: string;
  request(tokens: number, stream: boolean): { path: string; body: unknown };
}

const routes: Route[] = [
  {
    name: 'POST /generate',
    request: (tokens, stream) => ({
      path: '/generate',
      body: { inputs: PROMPT, parameters: { max_new_tokens: tokens, do_sample: false }, stream },
    }),
  },
  {
    name: 'POST /v1/chat/completions',
    request: (tokens, stream) => ({
      path: '/v1/chat/completions',
      body: { model: 'generate', messages: [{ role: 'user', content: PROMPT }], max_tokens: tokens, temperature: 0, stream },
    }),
  },
];

/** Nanoseconds the server's threads have run on a core (the first field of each thread's schedstat). */
function readServerCpuNanoseconds(pid: string): number {
  let total = 0;
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended between the listing and the read ran no more.
    }
  }
  return total;
}

interface Timing {
  milliseconds: number;
  cpuMilliseconds: number;
  events: number;
}

async function timeRequest(route: Route, tokens: number, stream: boolean): Promise<Timing> {
  const { path, body } = route.request(tokens, stream);
  const cpuBefore = serverPid ? readServerCpuNanoseconds(serverPid) : 0;
  const started = performance.now();
  const response = await fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  const milliseconds = performance.now() - started;
  const cpuMilliseconds = serverPid ? (readServerCpuNanoseconds(serverPid) - cpuBefore) / 1e6 : Number.NaN;
  if (!response.ok) throw new Error(`${route.name}: ${response.status} ${text}`);
  return { milliseconds, cpuMilliseconds, events: text.split('\n\n').filter((block) => block.startsWith('data:')).length };
}

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];
const median = (values: number[]) => quantile(values, 0.5);

/** A 95% interval for the median of `values`, from 2,000 resamples with replacement (a seeded generator: reruns agree). */
function bootstrapMedianInterval(values: number[]): [number, number] {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const medians: number[] = [];
  for (let sample = 0; sample < 2000; sample++) medians.push(median(values.map(() => values[Math.floor(random() * values.length)])));
  return [quantile(medians, 0.025), quantile(medians, 0.975)];
}

/** Each route's timings, in rounds: `timings[route][round]`. */
async function measure(tokens: number, stream: boolean): Promise<Timing[][]> {
  const timings = routes.map(() => [] as Timing[]);
  for (let round = 0; round < 5; round++) for (const route of routes) await timeRequest(route, tokens, stream);
  for (let round = 0; round < rounds; round++) {
    // Alternate which route goes first, so neither always follows the other.
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const index of order) timings[index].push(await timeRequest(routes[index], tokens, stream));
  }
  return timings;
}

/** The median of per-round values with its 95% interval, as text. */
function describePaired(values: number[], digits: number): string {
  const [low, high] = bootstrapMedianInterval(values);
  return `${median(values).toFixed(digits)} (95% interval ${low.toFixed(digits)} to ${high.toFixed(digits)})`;
}

/**
 * Whether an interval for a time ratio (/v1 over the function route) settles the target, that /v1 is at most 2%
 * slower: met when its upper end is at most 1.02, missed when its lower end is above it.
 */
function judge(values: number[]): string {
  const [low, high] = bootstrapMedianInterval(values);
  if (high <= 1.02) return 'at most 2% slower: met';
  if (low > 1.02) return 'more than 2% slower: missed';
  return 'not resolved at this number of rounds';
}

const ratios = (timings: Timing[][], read: (timing: Timing) => number) => timings[1].map((timing, round) => read(timing) / read(timings[0][round]));
const differences = (timings: Timing[][], read: (timing: Timing) => number) => timings[1].map((timing, round) => read(timing) - read(timings[0][round]));

const streaming = await measure(streamTokens, true);
const oneToken = await measure(1, false);
const wall = (timing: Timing) => timing.milliseconds;
const cpu = (timing: Timing) => timing.cpuMilliseconds;
const [streamHf, streamOpenAi] = streaming.map((timings) => median(timings.map(wall)));
const rate = (milliseconds: number) => ((streamTokens / milliseconds) * 1000).toFixed(0);
const events = streaming.map((timings) => median(timings.map((timing) => timing.events)));
console.log(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
console.log(`streaming ${streamTokens} tokens (events per answer: ${events.join(', ')}), median of ${rounds} rounds:`);
console.log(`  ${routes[0].name} ${streamHf.toFixed(2)} ms (${rate(streamHf)} tok/s), ${routes[1].name} ${streamOpenAi.toFixed(2)} ms (${rate(streamOpenAi)} tok/s)`);
const wallRatios = ratios(streaming, wall);
console.log(`  /v1 wall time over the function route, per round: ${describePaired(wallRatios, 4)}: ${judge(wallRatios)}`);
if (serverPid) {
  const cpuRatios = ratios(streaming, cpu);
  const [cpuHf, cpuOpenAi] = streaming.map((timings) => median(timings.map(cpu)));
  console.log(`  server CPU per answer: ${cpuHf.toFixed(2)} ms, ${cpuOpenAi.toFixed(2)} ms; /v1 over the function route: ${describePaired(cpuRatios, 4)}: ${judge(cpuRatios)}`);
}
const [oneHf, oneOpenAi] = oneToken.map((timings) => median(timings.map(wall)));
console.log(`one token, not streamed, median of ${rounds}: ${routes[0].name} ${oneHf.toFixed(3)} ms, ${routes[1].name} ${oneOpenAi.toFixed(3)} ms`);
console.log(`  /v1 minus the function route, per round: ${describePaired(differences(oneToken, wall), 3)} ms wall`);
if (serverPid) console.log(`  server CPU, /v1 minus the function route: ${describePaired(differences(oneToken, cpu), 3)} ms`);
