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

/**
 * `POST /generate` asking the task for what every /v1 request asks it for (`toGenerateParameters`: details, no
 * prompt echo, the answer's confidence, which costs a log-softmax per token): a one-token /v1 answer minus this one
 * is what the surface itself adds, and this one minus the plain route is what /v1's parameters cost the task.
 */
const likeV1: Route = {
  name: "POST /generate with /v1's parameters",
  request: (tokens, stream) => ({
    path: '/generate',
    body: { inputs: PROMPT, parameters: { max_new_tokens: tokens, do_sample: false, details: true, return_full_text: false, return_confidence: true }, stream },
  }),
};

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
async function measure(tokens: number, stream: boolean, measured: readonly Route[] = routes): Promise<Timing[][]> {
  const timings = measured.map(() => [] as Timing[]);
  for (let round = 0; round < 5; round++) for (const route of measured) await timeRequest(route, tokens, stream);
  for (let round = 0; round < rounds; round++) {
    // Rotate which route goes first, so none always follows another.
    for (let step = 0; step < measured.length; step++) {
      const index = (round + step) % measured.length;
      timings[index].push(await timeRequest(measured[index], tokens, stream));
    }
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
const differences = (timings: Timing[][], read: (timing: Timing) => number, from = 0, to = 1) =>
  timings[to].map((timing, round) => read(timing) - read(timings[from][round]));

const streaming = await measure(streamTokens, true);
const oneToken = await measure(1, false, [...routes, likeV1]);
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
const [oneHf, oneOpenAi, oneLikeV1] = oneToken.map((timings) => median(timings.map(wall)));
console.log(`one token, not streamed, median of ${rounds}: ${routes[0].name} ${oneHf.toFixed(3)} ms, ${routes[1].name} ${oneOpenAi.toFixed(3)} ms, ${likeV1.name} ${oneLikeV1.toFixed(3)} ms`);
// Route 0: the plain function route, 1: /v1, 2: the function route with /v1's parameters.
const splits: [string, number, number][] = [
  ['/v1 minus the function route', 0, 1],
  ["/v1 minus the function route with /v1's parameters (the surface's own cost)", 2, 1],
  ["the function route with /v1's parameters minus without (what they cost the task)", 0, 2],
];
for (const [label, from, to] of splits) {
  console.log(`  ${label}, per round: ${describePaired(differences(oneToken, wall, from, to), 3)} ms wall`);
  if (serverPid) console.log(`    server CPU: ${describePaired(differences(oneToken, cpu, from, to), 3)} ms`);
}
