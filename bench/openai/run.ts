/**
 * The OpenAI surface against the function route on one `honnx serve`: streaming tok/s of 64 greedy tokens, and the
 * per-request cost of a one-token answer, interleaved request by request so that both see the same machine load.
 * Each round times both routes back to back, so the ratio of a round compares like with like; the median of those
 * paired ratios and their interquartile range say whether a 2% difference is resolved at all (an interval that
 * holds both 0.98 and 1.02 does not resolve it).
 * Usage: start `honnx serve --function generate`, then `node bin/run-ts.mjs bench/openai/run.ts http://127.0.0.1:PORT [rounds]`
 * (default 100 rounds).
 */
export {};

const origin = process.argv[2] ?? 'http://127.0.0.1:8787';
const rounds = Number(process.argv[3] ?? 100);
const PROMPT = 'Once upon a time, there was a dog';

interface Route {
  name: string;
  request(tokens: number, stream: boolean): { path: string; body: unknown };
}

const routes: Route[] = [
  {
    name: 'POST /generate',
    request: (tokens, stream) => ({ path: '/generate', body: { inputs: PROMPT, parameters: { max_new_tokens: tokens, do_sample: false }, stream } }),
  },
  {
    name: 'POST /v1/chat/completions',
    request: (tokens, stream) => ({
      path: '/v1/chat/completions',
      body: { model: 'generate', messages: [{ role: 'user', content: PROMPT }], max_tokens: tokens, temperature: 0, stream },
    }),
  },
];

async function timeRequest(route: Route, tokens: number, stream: boolean): Promise<{ milliseconds: number; events: number }> {
  const { path, body } = route.request(tokens, stream);
  const started = performance.now();
  const response = await fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${route.name}: ${response.status} ${text}`);
  return { milliseconds: performance.now() - started, events: text.split('\n\n').filter((block) => block.startsWith('data:')).length };
}

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];
const median = (values: number[]) => quantile(values, 0.5);

/** Each route's times, in rounds: `times[route][round]`. */
async function measure(tokens: number, stream: boolean): Promise<number[][]> {
  const times = routes.map(() => [] as number[]);
  for (let round = 0; round < 3; round++) for (const route of routes) await timeRequest(route, tokens, stream);
  for (let round = 0; round < rounds; round++) {
    // Alternate which route goes first, so neither always follows the other.
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const index of order) times[index].push((await timeRequest(routes[index], tokens, stream)).milliseconds);
  }
  return times;
}

/** The median of per-round values and their interquartile range, as text. */
const describeSpread = (values: number[], digits: number) =>
  `${median(values).toFixed(digits)} (interquartile ${quantile(values, 0.25).toFixed(digits)} to ${quantile(values, 0.75).toFixed(digits)})`;

const streaming = await measure(64, true);
const oneToken = await measure(1, false);
const [streamHf, streamOpenAi] = streaming.map(median);
const [oneHf, oneOpenAi] = oneToken.map(median);
const rate = (milliseconds: number) => ((64 / milliseconds) * 1000).toFixed(0);
// Time ratio /v1 over the function route: above 1 is slower; the tok/s ratio is its inverse.
const streamRatios = streaming[1].map((milliseconds, round) => milliseconds / streaming[0][round]);
const oneDifferences = oneToken[1].map((milliseconds, round) => milliseconds - oneToken[0][round]);
console.log(`streaming 64 tokens, median of ${rounds}: ${routes[0].name} ${streamHf.toFixed(2)} ms (${rate(streamHf)} tok/s), ${routes[1].name} ${streamOpenAi.toFixed(2)} ms (${rate(streamOpenAi)} tok/s)`);
console.log(`  /v1 time over function route, per round: ${describeSpread(streamRatios, 3)}; target: within 0.98 to 1.02`);
console.log(`one token, not streamed, median of ${rounds}: ${routes[0].name} ${oneHf.toFixed(3)} ms, ${routes[1].name} ${oneOpenAi.toFixed(3)} ms`);
console.log(`  /v1 minus function route, per round: ${describeSpread(oneDifferences, 3)} ms`);
