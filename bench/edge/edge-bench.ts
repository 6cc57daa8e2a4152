import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import classify from '../../functions/classify.ts';
import { buildProject, type BuildRow } from '../../src/build/build-project.ts';
import { readUploadSize, runWrangler, startNodeArtifact, startWranglerDev, type RunningArtifact } from '../../test/build/artifact-processes.ts';
import { mirrorFolder } from '../mirror.ts';
import { percentile } from '../percentiles.ts';
import { readClassifyRequestBody, requestInit } from './classify-request.ts';
import { createBenchEngine, createLoadedApp, timeRuns, type NodeEngineName } from './in-process-app.ts';

/*
 * Issue 4's edge benchmark: the same classify request on node native, node WASM and the built worker under
 * `wrangler dev` (timed inside the worker through its Server-Timing header, so the dev proxy is not counted),
 * cold start per target, and the built size of every function.
 */

const projectRoot = join(import.meta.dirname, '../..');
const outDir = join(projectRoot, 'bench/out/edge');

export interface EdgeBenchOptions {
  /** Interleaved rounds; in each, every engine answers `requestsPerRound` requests after a short warm-up. */
  rounds: number;
  requestsPerRound: number;
  /** Fresh processes (and isolates) started per target for cold start. */
  coldStarts: number;
}

const WORKER_SCRIPT_TARGET_BYTES = 250_000;
const FIRST_ANSWER_TARGET_MS = 500;
const WORKER_TO_WASM_TARGET = 1.3;

interface Distribution {
  count: number;
  mean: number;
  p50: number;
  p90: number;
}

function describeDistribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90) };
}

const median = (values: readonly number[]) => percentile([...values].sort((a, b) => a - b), 50);
const milliseconds = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(2));
const kilobytes = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;
const verdict = (pass: boolean) => (pass ? '**PASS**' : '**MISS**');

/** One request's time in the handler, and the part of it ONNX Runtime spent running. */
interface RequestTiming {
  handlerMs: number;
  ortMs: number;
}

function readServerTiming(response: Response): RequestTiming {
  const header = response.headers.get('server-timing') ?? '';
  const handler = /honnx;dur=([\d.]+)/.exec(header);
  const ort = /ort;dur=([\d.]+)/.exec(header);
  if (!handler || !ort) throw new Error(`the worker answered without its Server-Timing header (got "${header}")`);
  return { handlerMs: Number(handler[1]), ortMs: Number(ort[1]) };
}

async function timeWorkerRequests(worker: RunningArtifact, body: string, count: number): Promise<RequestTiming[]> {
  const timings: RequestTiming[] = [];
  for (let index = 0; index < count; index++) {
    const response = await fetch(`${worker.url}/classify`, requestInit(body));
    if (response.status !== 200) throw new Error(`worker answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
    timings.push(readServerTiming(response));
  }
  return timings;
}

interface InProcessApp {
  fetch: (request: Request) => Promise<Response>;
  runMilliseconds: () => number;
}

async function timeInProcessRequests(app: InProcessApp, body: string, count: number): Promise<RequestTiming[]> {
  const timings: RequestTiming[] = [];
  for (let index = 0; index < count; index++) {
    const runsBefore = app.runMilliseconds();
    const started = performance.now();
    const response = await app.fetch(new Request('http://bench.local/classify', requestInit(body)));
    await response.arrayBuffer();
    timings.push({ handlerMs: performance.now() - started, ortMs: app.runMilliseconds() - runsBefore });
    if (response.status !== 200) throw new Error(`in-process app answered ${response.status}`);
  }
  return timings;
}

/** Runs cold-start-child.ts in a fresh Node process and returns what it measured. */
function measureInProcessColdStart(engine: 'native' | 'wasm'): Promise<number> {
  const child = spawn(process.execPath, [join(projectRoot, 'bin/run-ts.mjs'), join(import.meta.dirname, 'cold-start-child.ts'), engine], {
    cwd: projectRoot,
    env: { ...process.env, HONNX_MIRROR: mirrorFolder },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('BENCH_RESULT ')) resolve((JSON.parse(line.slice('BENCH_RESULT '.length)) as { firstAnswerMs: number }).firstAnswerMs);
    });
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`cold-start child (${engine}) exited with ${code}\n${errors}`))));
  });
}

interface WorkerColdStart {
  spawnToReadyMs: number;
  readyToFirstAnswerMs: number;
  insideWorkerMs: number;
}

async function measureWorkerColdStart(folder: string, body: string): Promise<WorkerColdStart> {
  const spawned = performance.now();
  const worker = await startWranglerDev(folder);
  const ready = performance.now();
  try {
    const response = await fetch(`${worker.url}/classify`, requestInit(body));
    await response.arrayBuffer();
    const answered = performance.now();
    if (response.status !== 200) throw new Error(`first answer was ${response.status}`);
    return { spawnToReadyMs: ready - spawned, readyToFirstAnswerMs: answered - ready, insideWorkerMs: readServerTiming(response).handlerMs };
  } finally {
    await worker.stop();
  }
}

async function measureNodeArtifactColdStart(folder: string, body: string): Promise<number> {
  const spawned = performance.now();
  const node = await startNodeArtifact(folder, { env: { HONNX_MIRROR: mirrorFolder } });
  try {
    const response = await fetch(`${node.url}/classify`, requestInit(body));
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`first answer was ${response.status}`);
    return performance.now() - spawned;
  } finally {
    await node.stop();
  }
}

function describeSizes(rows: readonly BuildRow[], dryRun: { kibibytes: number; gzipKibibytes: number } | undefined): string[] {
  const lines = [
    '| function | target | script / entry (gzip) | upload (script + WASM + bundled model) | model | est. peak memory / limit | model from |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.function} | ${row.target} | ${kilobytes(row.bundleBytes)} (${kilobytes(row.bundleGzipBytes)}) | ${row.uploadBytes ? megabytes(row.uploadBytes) : '-'} | ${megabytes(row.modelBytes)} | ${megabytes(row.memoryBytes)} / ${megabytes(row.memoryLimitBytes)} | ${row.delivery} |`,
    );
  }
  if (dryRun) {
    lines.push('', `\`wrangler deploy --dry-run\` of the classify worker: total upload ${(dryRun.kibibytes / 1024).toFixed(1)} MiB, ${(dryRun.gzipKibibytes / 1024).toFixed(1)} MiB gzipped.`);
  }
  return lines;
}

/** Runs the whole edge benchmark and returns it as markdown. */
export async function runEdgeBench(options: EdgeBenchOptions): Promise<string> {
  const startedAt = new Date();
  const body = readClassifyRequestBody();
  const log = (message: string) => process.stderr.write(`edge bench: ${message}\n`);

  log('building every function for both targets');
  const rows = await buildProject({ projectRoot, outDir });
  const classifyWorker = join(outDir, 'workers/classify');
  const classifyNode = join(outDir, 'node/classify');
  const dryRun = readUploadSize((await runWrangler(classifyWorker, ['deploy', '--dry-run', '--outdir', '.wrangler/dry-run'])).output);

  log('timing the same classify request on each engine');
  const apps = new Map<NodeEngineName, InProcessApp>();
  for (const name of ['node native', 'node WASM'] as const) {
    const timed = timeRuns(await createBenchEngine(name));
    apps.set(name, { fetch: await createLoadedApp(classify, timed.engine), runMilliseconds: timed.runMilliseconds });
  }
  const timings = new Map<string, RequestTiming[]>([['node native', []], ['node WASM', []], ['worker (wrangler dev)', []]]);
  const worker = await startWranglerDev(classifyWorker);
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const [name, app] of apps) {
        await timeInProcessRequests(app, body, 20);
        timings.get(name)!.push(...(await timeInProcessRequests(app, body, options.requestsPerRound)));
      }
      await timeWorkerRequests(worker, body, 20);
      timings.get('worker (wrangler dev)')!.push(...(await timeWorkerRequests(worker, body, options.requestsPerRound)));
    }
  } finally {
    await worker.stop();
  }
  const handler = new Map([...timings].map(([name, values]) => [name, describeDistribution(values.map((timing) => timing.handlerMs))]));
  const inference = new Map([...timings].map(([name, values]) => [name, describeDistribution(values.map((timing) => timing.ortMs))]));

  log('cold starts');
  const workerColdStarts: WorkerColdStart[] = [];
  const artifactColdStarts: number[] = [];
  const nativeColdStarts: number[] = [];
  const wasmColdStarts: number[] = [];
  for (let attempt = 0; attempt < options.coldStarts; attempt++) {
    workerColdStarts.push(await measureWorkerColdStart(classifyWorker, body));
    artifactColdStarts.push(await measureNodeArtifactColdStart(classifyNode, body));
    nativeColdStarts.push(await measureInProcessColdStart('native'));
    wasmColdStarts.push(await measureInProcessColdStart('wasm'));
  }

  // Workers clocks tick in whole milliseconds, so the worker's medians are whole numbers; means average the ticks out.
  const workerInference = inference.get('worker (wrangler dev)')!.mean;
  const wasmInference = inference.get('node WASM')!.mean;
  const firstAnswer = median(workerColdStarts.map((start) => start.readyToFirstAnswerMs));
  const insideFirstAnswer = median(workerColdStarts.map((start) => start.insideWorkerMs));
  const classifyRow = rows.find((row) => row.function === 'classify' && row.target === 'workers')!;

  return [
    `## Edge benchmark (issue 4), ${startedAt.toISOString()}`,
    '',
    `Node ${process.version}, ${cpus().length} vCPU (${cpus()[0]?.model.trim()}), load average before ${loadavg().map((value) => value.toFixed(2)).join(' ')}; wrangler 4.86 (workerd 1.20260426), onnxruntime-node / onnxruntime-web 1.30, one thread. Function \`classify\` (sentiment-sst2-mini, fp32), request \`${body}\`.`,
    '',
    '### Same classify request on each engine',
    '',
    `Model already loaded. *Inference* is the time ONNX Runtime spent in \`session.run\` for the request; *handler* is the whole function app (request reading, validation, tokenization, inference, JSON answer). Node is timed in this process around \`app.fetch\`; the worker inside itself, from its \`Server-Timing\` header (\`ort\` and \`honnx\`), so \`wrangler dev\`'s proxy is not counted. Workers clocks tick in whole milliseconds: the worker's medians are whole numbers and its means are the figures to compare. ${options.rounds} interleaved rounds of ${options.requestsPerRound} sequential requests, after 20 unmeasured ones each.`,
    '',
    '| engine | requests | inference mean ms | inference p50 ms | handler mean ms | handler p50 ms | handler p90 ms |',
    '|---|---|---|---|---|---|---|',
    ...[...handler].map(([name, whole]) => {
      const run = inference.get(name)!;
      return `| ${name} | ${whole.count} | ${milliseconds(run.mean)} | ${milliseconds(run.p50)} | ${milliseconds(whole.mean)} | ${milliseconds(whole.p50)} | ${milliseconds(whole.p90)} |`;
    }),
    '',
    '### Cold start',
    '',
    `${options.coldStarts} fresh starts per target, medians.`,
    '',
    '| target | what is timed | median ms | all, ms |',
    '|---|---|---|---|',
    `| worker (wrangler dev) | fresh isolate: \`wrangler dev\` ready → first answer at the client | ${milliseconds(firstAnswer)} | ${workerColdStarts.map((start) => milliseconds(start.readyToFirstAnswerMs)).join(', ')} |`,
    `| worker (wrangler dev) | the same first answer inside the worker (model load, session, warm-up, inference) | ${milliseconds(insideFirstAnswer)} | ${workerColdStarts.map((start) => milliseconds(start.insideWorkerMs)).join(', ')} |`,
    `| worker (wrangler dev) | \`wrangler dev\` spawn → ready (wrangler, workerd, script and WASM compile) | ${milliseconds(median(workerColdStarts.map((start) => start.spawnToReadyMs)))} | ${workerColdStarts.map((start) => milliseconds(start.spawnToReadyMs)).join(', ')} |`,
    `| node artifact (native) | \`node dist/node/classify/index.mjs\` spawn → first answer | ${milliseconds(median(artifactColdStarts))} | ${artifactColdStarts.map(milliseconds).join(', ')} |`,
    `| node native, in process | engine import → model load → first answer | ${milliseconds(median(nativeColdStarts))} | ${nativeColdStarts.map(milliseconds).join(', ')} |`,
    `| node WASM, in process | engine import → WASM compile → model load → first answer | ${milliseconds(median(wasmColdStarts))} | ${wasmColdStarts.map(milliseconds).join(', ')} |`,
    '',
    '### Built sizes',
    '',
    ...describeSizes(rows, dryRun),
    '',
    '### Targets',
    '',
    '| target | measured | verdict |',
    '|---|---|---|',
    `| worker inference within ${WORKER_TO_WASM_TARGET}× node WASM (mean) | ${milliseconds(workerInference)} ms vs ${milliseconds(wasmInference)} ms = ${(workerInference / wasmInference).toFixed(2)}× | ${verdict(workerInference <= WORKER_TO_WASM_TARGET * wasmInference)} |`,
    `| first answer from a fresh isolate < ${FIRST_ANSWER_TARGET_MS} ms (sentiment) | ${milliseconds(firstAnswer)} ms at the client, ${milliseconds(insideFirstAnswer)} ms inside | ${verdict(firstAnswer < FIRST_ANSWER_TARGET_MS)} |`,
    `| classify worker script without WASM and model < ${WORKER_SCRIPT_TARGET_BYTES / 1000} KB | ${kilobytes(classifyRow.bundleBytes)} (${kilobytes(classifyRow.bundleGzipBytes)} gzip) | ${verdict(classifyRow.bundleBytes < WORKER_SCRIPT_TARGET_BYTES)} |`,
    '',
  ].join('\n');
}
