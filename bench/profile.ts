import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createBenchCases, requestBodies } from './cases.ts';
import { startBenchServer } from './servers/start-server.ts';
import { runLoad, summarizeLoad } from './load.ts';
import { readProcessCpuMilliseconds } from './process-cpu.ts';

/*
 * Profiles one server under the bench's load: starts it with `--cpu-prof`, loads it at one concurrency, stops it,
 * and leaves the .cpuprofile (open it in Chrome DevTools, or summarise it with bench/summarize-profile.ts).
 * Usage: node bin/run-ts.mjs bench/profile.ts --case classify --server honnx --concurrency 32 --seconds 10 --out DIR
 */

const { values } = parseArgs({
  options: {
    case: { type: 'string', default: 'classify' },
    server: { type: 'string', default: 'honnx' },
    concurrency: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench/out/profiles' },
    'no-profile': { type: 'boolean', default: false },
    /** Load a server that is already running (say, under `perf record`) instead of starting one. */
    url: { type: 'string' },
    pid: { type: 'string' },
  },
});

const benchCase = createBenchCases().find((entry) => entry.functionName === values.case);
if (!benchCase) throw new Error(`no bench case ${values.case}`);
const outDirectory = resolve(values.out);
mkdirSync(outDirectory, { recursive: true });


// One folder per run: Node writes a profile per thread (tsx's loader runs in a thread of its own), and the main
// thread's is the largest.
const profileDirectory = join(outDirectory, `${values.server}-${values.case}-c${values.concurrency}-${Date.now()}`);
const nodeFlags = values['no-profile'] ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`];
const server = values.url
  ? { url: values.url, cpuMilliseconds: () => (values.pid ? readProcessCpuMilliseconds(Number(values.pid)) : undefined), stop: async () => {} }
  : await startBenchServer(values.server === 'honnx' ? 'honnx' : 'transformers.js', benchCase, nodeFlags);
try {
  const sample = await runLoad({
    url: server.url,
    bodies: requestBodies(benchCase),
    concurrency: Number(values.concurrency),
    warmUpSeconds: 1,
    seconds: Number(values.seconds),
    readServerCpu: server.cpuMilliseconds,
  });
  const summary = summarizeLoad([sample]);
  console.log(
    `${values.server} ${values.case} c=${values.concurrency}: ${summary.throughput.toFixed(0)} req/s, p50 ${summary.p50Ms.toFixed(3)} ms, ` +
      `p99 ${summary.p99Ms.toFixed(3)} ms, server CPU ${summary.serverCpuMsPerRequest?.toFixed(3)} ms/req, errors ${summary.errors}`,
  );
} finally {
  await server.stop();
}
if (!values['no-profile'] && !values.url) console.log(`profiles (one per thread) in ${profileDirectory}`);
