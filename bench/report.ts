import type { LoadResult } from './load.ts';
import type { EncoderResult, GenerationResult, ServerName, ServerResult } from './measure.ts';

const OVERHEAD_TARGET_MS = 1;

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const verdict = (met: boolean) => (met ? 'PASS' : 'MISS');

function serverResult<Result extends ServerResult>(servers: readonly Result[], name: ServerName): Result {
  const found = servers.find((result) => result.server === name);
  if (!found) throw new Error(`no ${name} result`);
  return found;
}

function loadAt(result: ServerResult, concurrency: number): LoadResult {
  const found = result.loads.find((load) => load.concurrency === concurrency);
  if (!found) throw new Error(`no ${result.server} load at concurrency ${concurrency}`);
  return found;
}

/** The best label of one classify answer: honnx answers `[[...]]` as the Hugging Face API, transformers.js `[...]`. */
function topLabel(answer: unknown): string | undefined {
  const list = Array.isArray(answer) && Array.isArray(answer[0]) ? answer[0] : answer;
  return Array.isArray(list) ? (list[0] as { label?: string } | undefined)?.label : undefined;
}

/**
 * transformers.js' server CPU per request over honnx's. A server at concurrency 32 is CPU-bound on its one
 * event loop, so this estimates the throughput ratio while moving far less with the machine's background load.
 */
function cpuRatioRow(ours: LoadResult, theirs: LoadResult, what: string): string {
  const ratio = (theirs.serverCpuMsPerRequest ?? Number.NaN) / (ours.serverCpuMsPerRequest ?? Number.NaN);
  return `| ${what}: server CPU per request, transformers.js / honnx (steadier estimate; information only) | ${fixed(ratio, 3)} | ≥ 1.000 | info |`;
}

/** Round-by-round ratios, to show whether a verdict is steady or within the machine's noise. */
function describeRounds(ours: LoadResult, theirs: LoadResult): string {
  return ours.windowThroughputs.map((throughput, round) => fixed(throughput / theirs.windowThroughputs[round], 2)).join(', ');
}

/** The entity types of one extract answer, in order (both answer a flat `[{entity_group, word, ...}]` for one text). */
function entityTypes(answer: unknown): string {
  return Array.isArray(answer) ? answer.map((entity) => (entity as { entity_group?: string }).entity_group).join(' ') : '';
}

function describeErrors(result: ServerResult): string[] {
  return result.loads
    .filter((load) => load.errors > 0)
    .map((load) => `${result.server} had ${load.errors} failed requests at concurrency ${load.concurrency}; first: ${load.firstError}`);
}

export function reportEncoder({ benchCase, floor, servers }: EncoderResult): string {
  const honnx = serverResult(servers, 'honnx');
  const transformers = serverResult(servers, 'transformers.js');
  const lines = [
    `### ${benchCase.functionName}: ${benchCase.model} (${benchCase.texts.length} held-out test sentences, one per request, mean ${fixed(floor.meanTokens, 1)} tokens)`,
    '',
    '| setup | concurrency | req/s | p50 ms | p99 ms | server CPU ms/req | requests | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    `| raw floor: session.run, no HTTP | 1 | ${fixed(floor.throughput, 0)} | ${fixed(floor.p50Ms, 3)} | ${fixed(floor.p99Ms, 3)} | ${fixed(floor.cpuMsPerRun, 3)} | ${floor.count} | - |`,
  ];
  for (const result of [honnx, transformers]) {
    for (const load of result.loads) {
      lines.push(
        `| ${result.server} over HTTP | ${load.concurrency} | ${fixed(load.throughput, 0)} | ${fixed(load.p50Ms, 3)} | ${fixed(load.p99Ms, 3)} | ${fixed(load.serverCpuMsPerRequest ?? Number.NaN, 3)} | ${load.count} | ${load.errors} |`,
      );
    }
  }
  const overhead = loadAt(honnx, 1).p50Ms - floor.p50Ms;
  lines.push('', '| target | value | goal | result |', '|---|---:|---:|---|');
  lines.push(`| honnx overhead over the raw floor, p50, concurrency 1 | ${fixed(overhead, 3)} ms | < ${OVERHEAD_TARGET_MS} ms | ${verdict(overhead < OVERHEAD_TARGET_MS)} |`);
  for (const load of honnx.loads) {
    const other = loadAt(transformers, load.concurrency);
    const ratio = load.throughput / other.throughput;
    lines.push(
      `| throughput honnx / transformers.js, concurrency ${load.concurrency} (rounds: ${describeRounds(load, other)}) | ${fixed(ratio, 3)} | ≥ 1.000 | ${verdict(ratio >= 1)} |`,
    );
  }
  for (const load of honnx.loads) lines.push(cpuRatioRow(load, loadAt(transformers, load.concurrency), `concurrency ${load.concurrency}`));
  lines.push('');
  if (benchCase.pipelineTask === 'text-classification') {
    const agreeing = honnx.samples.filter((answer, index) => topLabel(answer) === topLabel(transformers.samples[index])).length;
    lines.push(`Same top label from honnx and transformers.js on the first ${honnx.samples.length} sentences: ${agreeing}/${honnx.samples.length}.`);
  }
  if (benchCase.pipelineTask === 'token-classification') {
    const agreeing = honnx.samples.filter((answer, index) => entityTypes(answer) === entityTypes(transformers.samples[index])).length;
    lines.push(
      `Same entity types, in order, from honnx and transformers.js on the first ${honnx.samples.length} sentences: ${agreeing}/${honnx.samples.length}.`,
    );
  }
  lines.push(...describeErrors(honnx), ...describeErrors(transformers));
  return lines.join('\n');
}

export function reportGeneration({ benchCase, floor, servers }: GenerationResult): string {
  const honnx = serverResult(servers, 'honnx');
  const transformers = serverResult(servers, 'transformers.js');
  const lines = [
    `### ${benchCase.functionName}: ${benchCase.model} (greedy, prompt ${JSON.stringify(benchCase.prompt)}, max_new_tokens ${benchCase.maxNewTokens}, one request at a time)`,
    '',
    '| setup | tokens/request | tokens/s | ms/request p50 | ms/request p99 | server CPU ms/req | requests | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    `| raw floor: session.run loop with KV cache, no HTTP | ${floor.tokensPerRequest} | ${fixed(floor.tokensPerSecond, 0)} | ${fixed(floor.p50Ms, 2)} | ${fixed(floor.p99Ms, 2)} | ${fixed(floor.cpuMsPerRun, 2)} | ${floor.count} | - |`,
  ];
  for (const result of [honnx, transformers]) {
    const load = result.loads[0];
    lines.push(
      `| ${result.server} over HTTP | ${result.tokensPerRequest} | ${fixed(result.tokensPerSecond, 0)} | ${fixed(load.p50Ms, 2)} | ${fixed(load.p99Ms, 2)} | ${fixed(load.serverCpuMsPerRequest ?? Number.NaN, 2)} | ${load.count} | ${load.errors} |`,
    );
  }
  const ratio = honnx.tokensPerSecond / transformers.tokensPerSecond;
  const rounds = describeRounds(honnx.loads[0], transformers.loads[0]);
  lines.push('', '| target | value | goal | result |', '|---|---:|---:|---|');
  lines.push(`| tokens/s honnx / transformers.js (rounds: ${rounds}) | ${fixed(ratio, 3)} | ≥ 1.000 | ${verdict(ratio >= 1)} |`);
  lines.push(cpuRatioRow(honnx.loads[0], transformers.loads[0], 'generation'));
  lines.push('');
  for (const result of [honnx, transformers]) {
    const same = result.generatedText === floor.generatedText;
    lines.push(
      same
        ? `${result.server} generated the raw floor's ${floor.tokensPerRequest} tokens exactly.`
        : `${result.server}'s text differs from the raw floor's; its ${result.tokensPerRequest} tokens are counted by re-encoding ${JSON.stringify(result.generatedText)}.`,
    );
  }
  lines.push(...describeErrors(honnx), ...describeErrors(transformers));
  return lines.join('\n');
}
