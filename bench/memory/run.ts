import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_MAIN_FLAGS } from '../../src/build/build-node.ts';
import { buildProject } from '../../src/build/build-project.ts';
import { findFreePort } from '../../test/build/artifact-processes.ts';
import { readConllSentences, readSst2Sentences } from '../inputs.ts';
import { runLoad } from '../load.ts';
import { mirrorFolder } from '../mirror.ts';
import { readProcessCpuMilliseconds } from '../process-cpu.ts';

/*
 * Memory of one serving function: the RSS of its whole process (every thread) once ready, after a warm-up at
 * concurrency 32, and at its highest while a concurrency-32 load runs, for a `honnx build --target node` artifact
 * and for `honnx serve --function <name>`, with 0, 1 and 2 worker threads. Issue 5's target: RSS under 150 MB plus
 * the size of the function's model (every file the model ships: graph, tokenizer, configuration).
 * Servers start as `npm start` starts them (`node --max-semi-space-size=8 index.mjs`, `... bin/honnx.mjs serve`).
 * Run: node bin/run-ts.mjs bench/memory/run.ts [--only classify,extract] [--workers 0,1,2] [--servers artifact,serve]
 *      [--seconds N] [--warm-up N] [--concurrency N] [--node-flags "..."] [--env KEY=VALUE]...
 */

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'classify,extract' },
    workers: { type: 'string', default: '0,1,2' },
    servers: { type: 'string', default: 'artifact,serve' },
    seconds: { type: 'string', default: '20' },
    'warm-up': { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '32' },
    /** Node flags of the servers: by default those of `npm start` (in the project and in an artifact). */
    'node-flags': { type: 'string', default: NODE_MAIN_FLAGS },
    /** KEY=VALUE for the servers' environment (repeatable), e.g. NODE_OPTIONS=--max-semi-space-size=1 to try a setting. */
    env: { type: 'string', multiple: true, default: [] },
  },
});
const projectRoot = join(import.meta.dirname, '../..');
const functionNames = values.only.split(',');
const workerCounts = values.workers.split(',').map(Number);
const serverKinds = values.servers.split(',') as ('artifact' | 'serve')[];
const seconds = Number(values.seconds);
const warmUpSeconds = Number(values['warm-up']);
const concurrency = Number(values.concurrency);
const nodeFlags = values['node-flags'].split(' ').filter(Boolean);
const serverEnvironment = Object.fromEntries(values.env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
const MEGABYTE = 1024 * 1024;
const BUDGET_BYTES = 150 * MEGABYTE;

const BODIES: Record<string, () => string[]> = {
  classify: () => readSst2Sentences(500).map((inputs) => JSON.stringify({ inputs })),
  langid: () => readSst2Sentences(500).map((inputs) => JSON.stringify({ inputs })),
  extract: () => readConllSentences(500).map((inputs) => JSON.stringify({ inputs })),
};

function readRssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));
process.once('SIGINT', () => process.exit(130));

interface Started {
  child: ChildProcess;
  url: string;
}

/** Starts a server at log level warn (no line per request) and waits until /readyz answers 200. */
async function startServer(kind: 'artifact' | 'serve', name: string, workers: number, artifactFolder: string): Promise<Started> {
  const port = await findFreePort();
  const env = { ...process.env, HONNX_MIRROR: mirrorFolder, HONNX_LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), HONNX_WORKERS: String(workers), ...serverEnvironment };
  const child =
    kind === 'artifact'
      ? spawn(process.execPath, [...nodeFlags, 'index.mjs'], { cwd: artifactFolder, env, stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(process.execPath, [...nodeFlags, 'bin/honnx.mjs', 'serve', '--function', name, '--workers', String(workers)], { cwd: projectRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const until = performance.now() + 120_000;
  while (performance.now() < until) {
    if (child.exitCode !== null) throw new Error(`${kind} ${name} exited with ${child.exitCode}:\n${stderr}`);
    const ready = await fetch(`${url}/readyz`).then((response) => response.status === 200, () => false);
    if (ready) return { child, url };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${kind} ${name} was not ready in 120 s:\n${stderr}`);
}

async function stopServer({ child }: Started): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  running.delete(child);
}

interface Row {
  name: string;
  kind: string;
  workers: number;
  modelBytes: number;
  readyBytes: number;
  warmBytes: number;
  steadyBytes: number;
  peakBytes: number;
  throughput: number;
  /** Server CPU (all threads) per answered request in the measured window: steadier than req/s on a shared machine. */
  cpuMsPerRequest?: number;
  errors: number;
}

async function measure(kind: 'artifact' | 'serve', name: string, workers: number, artifactFolder: string, modelBytes: number): Promise<Row> {
  const server = await startServer(kind, name, workers, artifactFolder);
  const pid = server.child.pid!;
  try {
    const bodies = BODIES[name]();
    const readyBytes = readRssBytes(pid);
    const load = (loadSeconds: number) => runLoad({ url: `${server.url}/${name}`, bodies, concurrency, warmUpSeconds: 0, seconds: loadSeconds });
    await load(warmUpSeconds);
    const warmBytes = readRssBytes(pid);
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(readRssBytes(pid)), 100);
    const sample = await runLoad({ url: `${server.url}/${name}`, bodies, concurrency, warmUpSeconds: 0, seconds, readServerCpu: () => readProcessCpuMilliseconds(pid) });
    clearInterval(sampler);
    samples.push(readRssBytes(pid));
    const peakBytes = Math.max(...samples);
    // Steady state: the median of the second half of the window (RSS climbs for the first seconds, then holds).
    const secondHalf = samples.slice(Math.floor(samples.length / 2)).sort((a, b) => a - b);
    const steadyBytes = secondHalf[Math.floor(secondHalf.length / 2)];
    const answered = sample.latenciesMs.length;
    return {
      name,
      kind,
      workers,
      modelBytes,
      readyBytes,
      warmBytes,
      steadyBytes,
      peakBytes,
      throughput: answered / seconds,
      cpuMsPerRequest: sample.serverCpuMs === undefined ? undefined : sample.serverCpuMs / answered,
      errors: sample.errors,
    };
  } finally {
    await stopServer(server);
  }
}

const megabytes = (bytes: number) => (bytes / MEGABYTE).toFixed(1);
const started = performance.now();
const outDir = join(projectRoot, '.cache/bench-memory');
console.log(`Node ${process.version}, ${cpus().length} vCPU (${cpus()[0]?.model}), load average before ${loadavg().map((value) => value.toFixed(2)).join(' ')}.`);
console.log(`Servers run with node flags "${nodeFlags.join(' ')}". Models from ${mirrorFolder}. Each setup: ready, ${warmUpSeconds} s warm-up at concurrency ${concurrency}, then ${seconds} s at concurrency ${concurrency} with RSS sampled every 100 ms (steady: the median of the window's second half).\n`);
const built = await buildProject({ projectRoot, targets: ['node'], only: functionNames, outDir });
const rows: Row[] = [];
for (const name of functionNames) {
  const row = built.find((candidate) => candidate.function === name)!;
  for (const kind of serverKinds) {
    for (const workers of workerCounts) {
      process.stderr.write(`  ${name}, ${kind}, ${workers} worker(s)\n`);
      rows.push(await measure(kind, name, workers, join(outDir, 'node', name), row.modelBytes));
    }
  }
}

console.log('| function | server | workers | RSS ready MB | RSS after warm-up MB | RSS under load, steady MB | peak MB | target MB (150 + model) | req/s | server CPU ms/req | errors | verdict (steady) |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const row of rows) {
  const target = BUDGET_BYTES + row.modelBytes;
  const label = row.kind === 'artifact' ? 'artifact (HONNX_WORKERS)' : 'honnx serve (--workers)';
  console.log(
    `| ${row.name} | ${label} | ${row.workers} | ${megabytes(row.readyBytes)} | ${megabytes(row.warmBytes)} | ${megabytes(row.steadyBytes)} | ${megabytes(row.peakBytes)} | ${megabytes(target)} | ${row.throughput.toFixed(0)} | ${row.cpuMsPerRequest?.toFixed(3) ?? 'n/a'} | ${row.errors} | ${row.steadyBytes < target ? 'PASS' : 'MISS'} (${row.steadyBytes < target ? '' : '+'}${megabytes(row.steadyBytes - target)}) |`,
  );
}
console.log(`\nMB = 2^20 bytes. Whole run: ${((performance.now() - started) / 1000).toFixed(0)} s, load average after ${loadavg().map((value) => value.toFixed(2)).join(' ')}.`);
console.log(`Command: node bin/run-ts.mjs bench/memory/run.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
