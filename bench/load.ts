import { Agent, request } from 'node:http';
import { summarizeLatencies, type LatencySummary } from './percentiles.ts';

/*
 * A closed-loop load generator: `concurrency` workers, each sending its next request as soon as the last one
 * answered, over keep-alive connections. It is written on node:http rather than autocannon or fetch:
 * node:http's client costs a few tens of microseconds per request, less than fetch (undici's WHATWG streams),
 * needs no dependency, and measures what a client sees (request written → whole body read). It runs in the
 * bench's own process, never in a server's, so it does not share a server's event loop; it does share the
 * machine's 2 cores, equally for every server measured.
 */

export interface LoadOptions {
  url: string;
  /** JSON request bodies, sent in turn. */
  bodies: readonly string[];
  concurrency: number;
  /** Requests before this are not measured: connections open, JIT and caches settle. */
  warmUpSeconds: number;
  seconds: number;
  /** Reads the server's CPU time (ms), at the start and the end of the measured window. */
  readServerCpu?: () => number | undefined;
}

/** One measured window: the latency of every request answered in it. */
export interface LoadSample {
  concurrency: number;
  seconds: number;
  latenciesMs: number[];
  /** Server CPU used during the window, in milliseconds, when it could be read. */
  serverCpuMs?: number;
  errors: number;
  firstError?: string;
}

/** Several windows of one setup at one concurrency, pooled. */
export interface LoadResult extends LatencySummary {
  concurrency: number;
  seconds: number;
  /** Answered requests per second over all measured windows. */
  throughput: number;
  /** The same, window by window (one per round), to show how much it moved. */
  windowThroughputs: number[];
  /** Server CPU milliseconds per answered request, over all windows; undefined when not readable. */
  serverCpuMsPerRequest?: number;
  errors: number;
  firstError?: string;
}

export function summarizeLoad(samples: readonly LoadSample[]): LoadResult {
  const seconds = samples.reduce((sum, sample) => sum + sample.seconds, 0);
  const latencies = samples.flatMap((sample) => sample.latenciesMs);
  return {
    concurrency: samples[0].concurrency,
    seconds,
    throughput: latencies.length / seconds,
    windowThroughputs: samples.map((sample) => sample.latenciesMs.length / sample.seconds),
    serverCpuMsPerRequest: samples.every((sample) => sample.serverCpuMs !== undefined)
      ? samples.reduce((sum, sample) => sum + sample.serverCpuMs!, 0) / latencies.length
      : undefined,
    errors: samples.reduce((sum, sample) => sum + sample.errors, 0),
    firstError: samples.find((sample) => sample.firstError !== undefined)?.firstError,
    ...summarizeLatencies(latencies),
  };
}

interface Answer {
  status: number;
  body: string;
}

function post(agent: Agent, url: URL, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Sends one request and returns the parsed JSON answer; throws on a non-200 status. */
export async function postJson(url: string, body: unknown): Promise<unknown> {
  const agent = new Agent({ keepAlive: false });
  try {
    const answer = await post(agent, new URL(url), JSON.stringify(body));
    if (answer.status !== 200) throw new Error(`POST ${url} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
    return JSON.parse(answer.body);
  } finally {
    agent.destroy();
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadSample> {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const measureFrom = performance.now() + options.warmUpSeconds * 1000;
  const measureUntil = measureFrom + options.seconds * 1000;
  const cpuReadings: (number | undefined)[] = [];
  const readCpu = () => cpuReadings.push(options.readServerCpu?.());
  const cpuTimers = [setTimeout(readCpu, options.warmUpSeconds * 1000), setTimeout(readCpu, (options.warmUpSeconds + options.seconds) * 1000)];

  const worker = async () => {
    while (performance.now() < measureUntil) {
      const body = options.bodies[next++ % options.bodies.length];
      const started = performance.now();
      let failure: string | undefined;
      try {
        const answer = await post(agent, url, body);
        if (answer.status !== 200) failure = `${answer.status}: ${answer.body.slice(0, 300)}`;
      } catch (error) {
        failure = (error as Error).message;
      }
      const ended = performance.now();
      if (ended < measureFrom || ended > measureUntil) continue;
      if (failure === undefined) latencies.push(ended - started);
      else {
        errors++;
        firstError ??= failure;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  agent.destroy();
  cpuTimers.forEach(clearTimeout);
  // The last answers can arrive before the end-of-window timer has fired.
  while (cpuReadings.length < 2) readCpu();
  const [cpuBefore, cpuAfter] = cpuReadings;
  const serverCpuMs = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  return { concurrency: options.concurrency, seconds: options.seconds, latenciesMs: latencies, serverCpuMs, errors, firstError };
}
