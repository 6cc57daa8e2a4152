import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { mirrorFolder } from '../mirror.ts';
import { summarizeLatencies } from '../percentiles.ts';

/*
 * The load run of the proof: `honnx serve` (this project's functions/) in a child process, then a closed loop of
 * CONCURRENCY clients for SECONDS against /classify and then /extract. Prints every status seen, transport errors,
 * and the server's RSS after warm-up and after the run. A figure run, not a test: it asserts nothing and exits 0.
 * Usage: node bin/run-ts.mjs bench/load-run/run.ts [seconds] [concurrency]
 */

const projectRoot = join(import.meta.dirname, '../..');
const SECONDS = Number(process.argv[2] ?? 60);
const CONCURRENCY = Number(process.argv[3] ?? 64);
const WARM_UP_SECONDS = 10;

const TARGETS: { path: string; bodies: string[] }[] = [
  { path: '/classify', bodies: ['I love this', 'The movie was boring and far too long', 'An honest, moving film.'].map((inputs) => JSON.stringify({ inputs })) },
  {
    path: '/extract',
    bodies: ['Angela Merkel met Emmanuel Macron in Paris on Tuesday', 'Google opened an office in Berlin.', 'Nothing here.'].map((inputs) => JSON.stringify({ inputs })),
  },
];

function readRssKilobytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]);
}

interface Tally {
  statuses: Record<number, number>;
  transportErrors: number;
  firstTransportError?: string;
  latenciesMs: number[];
}

function post(agent: Agent, url: URL, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('aborted', () => reject(new Error('answer cut short')));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

async function runClosedLoop(url: URL, bodies: readonly string[], seconds: number): Promise<Tally> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const tally: Tally = { statuses: {}, transportErrors: 0, latenciesMs: [] };
  const until = performance.now() + seconds * 1000;
  let next = 0;
  const client = async () => {
    while (performance.now() < until) {
      const started = performance.now();
      try {
        const status = await post(agent, url, bodies[next++ % bodies.length]);
        tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
        if (status === 200) tally.latenciesMs.push(performance.now() - started);
      } catch (error) {
        tally.transportErrors++;
        tally.firstTransportError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  agent.destroy();
  return tally;
}

/** A port free right now, for the child to listen on: at log level warn it does not print the one it bound. */
const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address() as AddressInfo;
    probe.close(() => resolve(free));
  });
});
// Log level warn: a log line per request would cost the server CPU and the run nothing useful.
const child = spawn(process.execPath, [join(projectRoot, 'bin/honnx.mjs'), 'serve', '--port', String(port), '--host', '127.0.0.1'], {
  cwd: projectRoot,
  env: { ...process.env, HONNX_MIRROR: mirrorFolder, HONNX_CACHE: mkdtempSync(join(tmpdir(), 'honnx-cache-')), HONNX_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
process.once('exit', () => child.kill('SIGKILL'));
const base = new URL(`http://127.0.0.1:${port}`);
for (;;) {
  if (child.exitCode !== null) throw new Error(`honnx serve exited (${child.exitCode}) before it was ready`);
  const ready = await fetch(new URL('/readyz', base)).then((response) => response.status === 200, () => false);
  if (ready) break;
  await new Promise((resolve) => setTimeout(resolve, 250));
}
const pid = child.pid!;
console.log(`honnx serve (pid ${pid}) ready at ${base}; ${CONCURRENCY} clients, ${WARM_UP_SECONDS} s warm-up per function, ${SECONDS} s measured per function`);
const rssAtReady = readRssKilobytes(pid);

for (const target of TARGETS) await runClosedLoop(new URL(target.path, base), target.bodies, WARM_UP_SECONDS);
const rssAfterWarmUp = readRssKilobytes(pid);

const results: Record<string, unknown> = {};
for (const target of TARGETS) {
  const tally = await runClosedLoop(new URL(target.path, base), target.bodies, SECONDS);
  const answered = tally.statuses[200] ?? 0;
  const latency = summarizeLatencies(tally.latenciesMs);
  const otherErrors = Object.entries(tally.statuses).filter(([status]) => status !== '200' && status !== '429').reduce((sum, [, count]) => sum + count, 0);
  results[target.path] = { statuses: tally.statuses, transportErrors: tally.transportErrors, firstTransportError: tally.firstTransportError, otherErrors, throughput: answered / SECONDS, latency };
  console.log(`${target.path}: ${JSON.stringify(results[target.path])}`);
}
const rssAfterRun = readRssKilobytes(pid);
const growth = (rssAfterRun - rssAfterWarmUp) / rssAfterWarmUp;
console.log(`RSS (VmRSS): at ready ${(rssAtReady / 1024).toFixed(1)} MiB, after warm-up ${(rssAfterWarmUp / 1024).toFixed(1)} MiB, after run ${(rssAfterRun / 1024).toFixed(1)} MiB (${(growth * 100).toFixed(1)}%)`);
console.log(`LOAD_RESULT ${JSON.stringify({ seconds: SECONDS, concurrency: CONCURRENCY, results, rssKilobytes: { ready: rssAtReady, afterWarmUp: rssAfterWarmUp, afterRun: rssAfterRun }, growth })}`);
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
