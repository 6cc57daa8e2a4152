import { existsSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { applyOverrides } from '../../src/models/synth/synth-presets.ts';
import { DEFAULT_SYNTH_SEED, findPreset, synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { writeGgufModel } from '../../src/models/synth/write-gguf-model.ts';
import { measureCopyBandwidth } from '../../src/cli/measure-bandwidth.ts';
import { findFreePort } from '../child-process.ts';
import { READY_PREFIX } from '../servers/announce-ready.ts';
import { spawnChild, waitForLine } from './children.ts';
import { promptIds, PROMPT_LENGTHS, readRss, RESULT_PREFIX } from './measure.ts';
import { createTokenizer } from '../../src/text/tokenizer.ts';

/*
 * npm run bench:slm [-- --models qwen3-0.6b,llama-3.2-1b] [--new-tokens 32] [--engines raw,honnx,transformers,llamacpp]
 * Full-size random-weight SLMs (honnx models synth, q4 = MatMulNBits block 32) into .cache/slm/ on first run, then
 * side by side: a bare onnxruntime-node loop (the floor), honnx over HTTP, transformers.js 4.3.1, and this box's
 * llama.cpp (node-llama-cpp 3.21.1) on the Q4_0 GGUF of the same weights, and this box's
 * memory-bandwidth ceiling (a buffer-copy loop's bandwidth ÷ weight bytes read per token). Figures, not assertions.
 */
const root = join(import.meta.dirname, '../..');
const cacheFolder = join(root, '.cache/slm');
const argument = (name: string, fallback: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
};
const models = argument('models', 'qwen3-0.6b,llama-3.2-1b').split(',');
const newTokens = Number(argument('new-tokens', '32'));
const engines = new Set(argument('engines', 'honnx,raw,transformers,llamacpp').split(','));
const threads = cpus().length;
interface EngineFigures {
  ttft: Record<number, number>;
  decode16: number;
  decode512?: number;
  streams4?: number;
  streams8?: number;
  rss?: number;
}

async function ensureModel(preset: string): Promise<{ folder: string; file: string; ggufPath: string; bytes: number; embeddingBytes: number }> {
  const folder = join(cacheFolder, preset);
  const file = 'model_q4.onnx';
  const ggufPath = `${folder}-q4_0.gguf`;
  if (!existsSync(join(folder, 'onnx', file))) {
    console.log(`synthesizing ${preset} q4 into ${folder} (first run only) ...`);
    await synthesizeModel({ preset, outputFolder: folder, variant: 'q4' });
  }
  if (engines.has('llamacpp') && !existsSync(ggufPath)) {
    console.log(`writing the same weights as Q4_0 GGUF into ${ggufPath} (first run only) ...`);
    const synthPreset = findPreset(preset);
    await writeGgufModel(ggufPath, { preset: synthPreset, shape: applyOverrides(synthPreset, {}).shape, seed: DEFAULT_SYNTH_SEED });
  }
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
  const dataPath = join(folder, 'onnx', `${file}_data`);
  const bytes = statSync(join(folder, 'onnx', file)).size + (existsSync(dataPath) ? statSync(dataPath).size : 0);
  // The fp32 embedding table is gathered one row per token, not read whole: the rest is read every step.
  return { folder, file, ggufPath, bytes, embeddingBytes: config.vocab_size * config.hidden_size * 4 };
}

async function runMeasuring(entry: string, args: string[]): Promise<EngineFigures> {
  return JSON.parse(await waitForLine(spawnChild(entry, args, cacheFolder), RESULT_PREFIX)) as EngineFigures;
}

async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Token arrival times of one streamed generation, from the request's start, in ms. */
async function streamTimes(url: string, inputs: string, count: number): Promise<number[]> {
  const started = performance.now();
  const response = await postJson(url, { inputs, stream: true, parameters: { max_new_tokens: count, do_sample: false } });
  const times: number[] = [];
  const decoder = new TextDecoder();
  const reader = response.body!.getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    const events = decoder.decode(chunk.value).split('\n\n').filter((block) => block.startsWith('data:')).length;
    for (let index = 0; index < events; index++) times.push(performance.now() - started);
  }
  return times;
}

async function measureHonnx(preset: string, folder: string): Promise<EngineFigures> {
  const port = await findFreePort();
  const server = spawnChild('honnx-server.ts', [String(port)], cacheFolder, { SLM_MODEL: preset, SLM_VARIANT: 'q4', HONNX_LOG_LEVEL: 'error' });
  await waitForLine(server, READY_PREFIX);
  const url = `http://127.0.0.1:${port}/slm`;
  try {
    const readJson = (name: string) => JSON.parse(readFileSync(join(folder, name), 'utf8'));
    const tokenizer = createTokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'), readJson('config.json'));
    const textOf = (length: number) => tokenizer.decode(promptIds((text) => tokenizer.encode(text, { addSpecialTokens: false }).ids, length), { skipSpecialTokens: true });
    const ttft: Record<number, number> = {};
    for (const length of PROMPT_LENGTHS) {
      const started = performance.now();
      const response = await postJson(url, { inputs: textOf(length), parameters: { max_new_tokens: 1 } });
      if (!response.ok) throw new Error(`honnx answered ${response.status}: ${await response.text()}`);
      await response.json();
      ttft[length] = performance.now() - started;
    }
    const decodeRate = (times: number[]) => ((times.length - 1) * 1000) / (times.at(-1)! - times[0]);
    const decode16 = decodeRate(await streamTimes(url, textOf(16), newTokens + 1));
    const decode512 = decodeRate(await streamTimes(url, textOf(512), newTokens + 1));
    const aggregate = async (streams: number) => {
      const started = performance.now();
      const all = await Promise.all(Array.from({ length: streams }, () => streamTimes(url, textOf(16), newTokens)));
      return (all.reduce((sum, times) => sum + times.length, 0) * 1000) / (performance.now() - started);
    };
    const streams4 = await aggregate(4);
    const streams8 = await aggregate(8);
    return { ttft, decode16, decode512, streams4, streams8, rss: readRss(server.pid!) };
  } finally {
    server.kill('SIGTERM');
  }
}

const format = (value: number | undefined, digits = 1) => (value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));
const megabytes = (bytes: number | undefined) => (bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(0)} MB`);

const bandwidth = measureCopyBandwidth();
console.log(`machine: ${threads} cores, load average ${loadavg().map((value) => value.toFixed(1)).join(' ')} (shared: figures are noisy)`);
console.log(`copy bandwidth: ${(bandwidth / 1e9).toFixed(1)} GB/s (read + written)`);
for (const preset of models) {
  const model = await ensureModel(preset);
  const perToken = model.bytes - model.embeddingBytes;
  const ceiling = bandwidth / perToken;
  console.log(`\n${preset} q4: ${megabytes(model.bytes)} on disk, ~${megabytes(perToken)} of weights read per token; ceiling ${ceiling.toFixed(1)} tok/s; ${newTokens} new tokens, greedy, ${threads} threads`);
  const results: Record<string, EngineFigures> = {};
  // Each engine's row is printed as soon as it is measured: a full run takes many minutes on a loaded box.
  const record = (name: string, figures: EngineFigures) => {
    results[name] = figures;
    console.log(
      `| ${name} | ${PROMPT_LENGTHS.map((length) => format(figures.ttft[length], 0)).join(' / ')} | ${format(figures.decode16)} / ${format(figures.decode512)} | ` +
        `${format(figures.streams4)} / ${format(figures.streams8)} | ${megabytes(figures.rss)} |`,
    );
  };
  console.log('| engine | TTFT 16 / 512 / 2048 ms | decode tok/s at 16 / 512 | 4 / 8 streams tok/s | RSS |');
  console.log('|---|---|---|---|---|');
  for (const engine of engines) {
    if (engine === 'honnx') record('honnx over HTTP', await measureHonnx(preset, model.folder));
    if (engine === 'raw') record('onnxruntime-node loop', await runMeasuring('raw-loop.ts', [model.folder, model.file, String(threads), String(newTokens)]));
    if (engine === 'llamacpp') record('llama.cpp (node-llama-cpp)', await runMeasuring('llama-cpp-loop.ts', [model.folder, model.ggufPath, String(threads), String(newTokens)]));
    if (engine === 'transformers') record('transformers.js 4.3.1', await runMeasuring('transformers-loop.ts', [model.folder, 'q4', String(threads), String(newTokens)]));
  }
  const honnx = results['honnx over HTTP'];
  const raw = results['onnxruntime-node loop'];
  const transformers = results['transformers.js 4.3.1'];
  const llamaCpp = results['llama.cpp (node-llama-cpp)'];
  if (honnx) {
    if (llamaCpp) {
      console.log(`  vs llama.cpp: decode ${format(honnx.decode16 / llamaCpp.decode16, 2)}× at 16, ${format(honnx.decode512! / llamaCpp.decode512!, 2)}× at 512 (goal 1.0×); TTFT 16 ${format(honnx.ttft[16] / llamaCpp.ttft[16], 2)}× (goal ≤ 1.0×)`);
      console.log(`  llama.cpp's decode: ${format(llamaCpp.decode16 / ceiling * 100, 0)}% of the ceiling`);
    }
    console.log(`goals: decode ${format(honnx.decode16 / ceiling * 100, 0)}% of the bandwidth ceiling (goal 50%)`);
    if (transformers) console.log(`  vs transformers.js: ${format(honnx.decode16 / transformers.decode16, 2)}× at 16, ${format(honnx.decode512! / transformers.decode512!, 2)}× at 512 (goal 1.3×)`);
    if (raw) console.log(`  per-token time over the raw loop: ${format((raw.decode16 / honnx.decode16 - 1) * 100, 0)}% at 16 (goal ≤ 3%); TTFT 16 ${format(honnx.ttft[16] / raw.ttft[16], 2)}× the loop's`);
    console.log(`  8 streams / 1 stream: ${format(honnx.streams8! / honnx.decode16, 2)}× (goal 3×)`);
  }
}
console.log(`\nload average after: ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
