import { CONCURRENCIES, requestBodies, type BenchCase, type EncoderCase, type GenerationCase } from './cases.ts';
import { runMeasuringChild, type ChildServer } from './child-process.ts';
import { startBenchServer, type ServerName } from './servers/start-server.ts';
import { openTokenizer } from './floor/open-session.ts';
import { postJson, runLoad, summarizeLoad, type LoadResult, type LoadSample } from './load.ts';
import { summarizeLatencies, type LatencySummary } from './percentiles.ts';

/*
 * The machine is shared, so background load comes and goes. Rather than measure each setup once, in a row,
 * the bench measures in rounds: every round runs the raw floor, then loads honnx and transformers.js at each
 * concurrency, alternating which goes first. Each setup's windows are then pooled, so every setup sees the
 * same mix of quiet and busy moments. Only one setup runs at a time; the idle server waits on its socket.
 */

export interface Timing {
  rounds: number;
  warmUpSeconds: number;
  /**
   * Unmeasured load before the first round, per server (split across the concurrencies) and for every floor window:
   * a long-running server is measured, not a fresh one. Both servers keep speeding up for 10-30 s under load
   * (onnxruntime's run on the NER model: 738 us of CPU in the first 3,000 runs, 656-684 us later; the same in
   * the transformers.js server).
   */
  serverWarmUpSeconds: number;
  /** Measured seconds per window; a setup's figures pool `rounds` windows. */
  seconds: number;
}

export type { ServerName };
const SERVERS: readonly ServerName[] = ['honnx', 'transformers.js'];

export interface FloorResult extends LatencySummary {
  seconds: number;
  /** Runs per second, one after another. */
  throughput: number;
  /** CPU of the floor's process per run. */
  cpuMsPerRun: number;
}

export interface EncoderFloor extends FloorResult {
  meanTokens: number;
}

export interface GenerationFloor extends FloorResult {
  tokensPerRequest: number;
  tokensPerSecond: number;
  generatedText: string;
}

export interface ServerResult {
  server: ServerName;
  loads: LoadResult[];
  /** Answers to the first few bodies, sent before any load, for the correctness checks. */
  samples: unknown[];
}

export interface EncoderResult {
  kind: 'encoder';
  benchCase: EncoderCase;
  floor: EncoderFloor;
  servers: ServerResult[];
}

export interface GenerationServerResult extends ServerResult {
  generatedText: string;
  /** New tokens per request: the floor's count when the text is the floor's, else the text re-encoded. */
  tokensPerRequest: number;
  tokensPerSecond: number;
}

export interface GenerationResult {
  kind: 'generation';
  benchCase: GenerationCase;
  floor: GenerationFloor;
  servers: GenerationServerResult[];
}

const SAMPLE_COUNT = 20;

interface FloorWindow {
  latenciesMs: number[];
  cpuMs: number;
}

function summarizeFloor<Window extends FloorWindow>(windows: readonly Window[], seconds: number): FloorResult & Omit<Window, 'latenciesMs' | 'cpuMs'> {
  const { latenciesMs: _latencies, cpuMs: _cpu, ...rest } = windows[0];
  const summary = summarizeLatencies(windows.flatMap((window) => window.latenciesMs));
  const cpuMs = windows.reduce((sum, window) => sum + window.cpuMs, 0);
  return { ...rest, ...summary, seconds: seconds * windows.length, throughput: 1000 / summary.meanMs, cpuMsPerRun: cpuMs / summary.count };
}

/**
 * Starts both servers, collects their sample answers, then runs `rounds` rounds of floor + loads. Returns the
 * floor windows and, per server, the pooled load at each concurrency.
 */
async function measureInRounds<Window extends FloorWindow>(
  benchCase: BenchCase,
  floorEntry: string,
  concurrencies: readonly number[],
  timing: Timing,
): Promise<{ floorWindows: Window[]; servers: ServerResult[] }> {
  const running = new Map<ServerName, ChildServer>();
  try {
    for (const server of SERVERS) running.set(server, await startBenchServer(server, benchCase));
    const bodies = requestBodies(benchCase);
    const samples = new Map<ServerName, unknown[]>();
    for (const server of SERVERS) {
      const answers: unknown[] = [];
      for (const body of bodies.slice(0, SAMPLE_COUNT)) answers.push(await postJson(running.get(server)!.url, JSON.parse(body)));
      samples.set(server, answers);
    }
    for (const server of SERVERS) {
      process.stderr.write(`  ${benchCase.functionName}: warming ${server} up for ${timing.serverWarmUpSeconds} s\n`);
      const { url } = running.get(server)!;
      for (const concurrency of concurrencies) {
        await runLoad({ url, bodies, concurrency, warmUpSeconds: 0, seconds: timing.serverWarmUpSeconds / concurrencies.length });
      }
    }
    const floorWindows: Window[] = [];
    const windows = new Map<string, LoadSample[]>();
    for (let round = 0; round < timing.rounds; round++) {
      process.stderr.write(`  ${benchCase.functionName} round ${round + 1}/${timing.rounds}: raw floor`);
      floorWindows.push(
        await runMeasuringChild<Window>(floorEntry, [benchCase.functionName, String(Math.max(timing.warmUpSeconds, timing.serverWarmUpSeconds)), String(timing.seconds)]),
      );
      const order = round % 2 === 0 ? SERVERS : [...SERVERS].reverse();
      for (const concurrency of concurrencies) {
        for (const server of order) {
          process.stderr.write(`, ${server} c=${concurrency}`);
          const key = `${server} ${concurrency}`;
          const { url, cpuMilliseconds } = running.get(server)!;
          const sample = await runLoad({ url, bodies, concurrency, warmUpSeconds: timing.warmUpSeconds, seconds: timing.seconds, readServerCpu: cpuMilliseconds });
          windows.set(key, [...(windows.get(key) ?? []), sample]);
        }
      }
      process.stderr.write('\n');
    }
    const servers = SERVERS.map((server) => ({
      server,
      loads: concurrencies.map((concurrency) => summarizeLoad(windows.get(`${server} ${concurrency}`)!)),
      samples: samples.get(server)!,
    }));
    return { floorWindows, servers };
  } finally {
    await Promise.all([...running.values()].map((server) => server.stop()));
  }
}

export async function measureEncoderCase(benchCase: EncoderCase, timing: Timing): Promise<EncoderResult> {
  const { floorWindows, servers } = await measureInRounds<FloorWindow & { meanTokens: number }>(
    benchCase,
    'bench/floor/encoder.ts',
    CONCURRENCIES,
    timing,
  );
  return { kind: 'encoder', benchCase, floor: summarizeFloor(floorWindows, timing.seconds), servers };
}

function readGeneratedText(answer: unknown): string {
  const first = Array.isArray(answer) ? (answer[0] as { generated_text?: unknown }) : undefined;
  if (typeof first?.generated_text !== 'string') throw new Error(`unexpected generation answer: ${JSON.stringify(answer).slice(0, 300)}`);
  return first.generated_text;
}

export async function measureGenerationCase(benchCase: GenerationCase, timing: Timing): Promise<GenerationResult> {
  const { floorWindows, servers } = await measureInRounds<FloorWindow & { tokensPerRequest: number; generatedText: string }>(
    benchCase,
    'bench/floor/decoder.ts',
    [1],
    timing,
  );
  const floorSummary = summarizeFloor(floorWindows, timing.seconds);
  const floor: GenerationFloor = { ...floorSummary, tokensPerSecond: floorSummary.throughput * floorSummary.tokensPerRequest };
  const tokenizer = openTokenizer(benchCase.model);
  return {
    kind: 'generation',
    benchCase,
    floor,
    servers: servers.map((result) => {
      const generatedText = readGeneratedText(result.samples[0]);
      const tokensPerRequest =
        generatedText === floor.generatedText ? floor.tokensPerRequest : tokenizer.encode(generatedText, { add_special_tokens: false }).ids.length;
      return { ...result, generatedText, tokensPerRequest, tokensPerSecond: result.loads[0].throughput * tokensPerRequest };
    }),
  };
}
