import { parseArgs } from 'node:util';
import { createBenchCases, requestBodies } from './cases.ts';
import { startHonnxServe, type ChildServer } from './child-process.ts';
import { runLoad, summarizeLoad, type LoadSample } from './load.ts';
import { startBenchServer } from './servers/start-server.ts';

/*
 * An interleaved A/B of servers for one bench case: honnx serve from this checkout or others (a change against the
 * tree before it), and transformers.js, loaded in turn, the order reversed every round, so that drift in the
 * machine's speed falls on all of them alike. Prints req/s, p50 and server CPU per request, pooled and per round.
 * Usage: node bin/run-ts.mjs bench/compare.ts --case extract --concurrency 1 --seconds 5 --rounds 6 \
 *          before=/path/to/other/checkout now=. [noLog=.:HONNX_LOG_LEVEL=warn] [tjs=transformers.js]
 * Each server is `name=ROOT[:VARIABLE=VALUE]` (honnx serve --workers 0 run from ROOT, with that environment
 * variable) or `name=transformers.js`. Another checkout needs its own node_modules (a link to this one's will do).
 */

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    case: { type: 'string', default: 'extract' },
    concurrency: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '6' },
  },
});

const benchCase = createBenchCases().find((entry) => entry.functionName === values.case);
if (!benchCase) throw new Error(`no bench case ${values.case}`);
if (positionals.length < 2) throw new Error('name at least two servers to compare, as name=ROOT or name=transformers.js');

const servers: { name: string; server: ChildServer }[] = [];
try {
  for (const spec of positionals) {
    const [name, target] = spec.split(/=(.*)/s);
    const [root, variable] = target.split(/:(.*)/s);
    const server =
      root === 'transformers.js'
        ? await startBenchServer('transformers.js', benchCase)
        : await startHonnxServe(benchCase.functionName, { workers: 0, root, env: variable ? Object.fromEntries([variable.split(/=(.*)/s).slice(0, 2)]) : {} });
    servers.push({ name, server });
  }
  const bodies = requestBodies(benchCase);
  for (const concurrency of values.concurrency.split(',').map(Number)) {
    const samples = servers.map((): LoadSample[] => []);
    for (let round = 0; round < Number(values.rounds); round++) {
      const order = servers.map((_, index) => index);
      if (round % 2) order.reverse();
      for (const index of order) {
        const { server } = servers[index];
        samples[index].push(await runLoad({ url: server.url, bodies, concurrency, warmUpSeconds: 1, seconds: Number(values.seconds), readServerCpu: server.cpuMilliseconds }));
      }
    }
    for (const [index, { name }] of servers.entries()) {
      const pooled = summarizeLoad(samples[index]);
      const cpuPerRound = samples[index].map((sample) => (sample.serverCpuMs === undefined ? '-' : (sample.serverCpuMs / sample.latenciesMs.length).toFixed(3)));
      console.log(
        `${values.case} c=${concurrency} ${name.padEnd(12)} ${pooled.throughput.toFixed(0).padStart(5)} req/s  p50 ${pooled.p50Ms.toFixed(3)} ms  ` +
          `server CPU ${pooled.serverCpuMsPerRequest?.toFixed(3) ?? '-'} ms/req  rounds: ${pooled.windowThroughputs.map((value) => value.toFixed(0)).join(', ')} req/s; ${cpuPerRound.join(', ')} ms/req`,
      );
    }
  }
} finally {
  for (const { server } of servers) await server.stop();
}
