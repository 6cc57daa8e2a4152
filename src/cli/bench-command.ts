import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism, freemem, loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readArgumentError } from './argument-errors.ts';
import { formatBytes } from '../models/format-units.ts';
import { onnxPath, type GenaiConfig, type ModelVariant } from '../models/model-bundle.ts';
import { isModelVariant } from '../models/model-file-selection.ts';
import { readModelSearchPaths } from '../models/resolve-model.ts';
import { SYNTH_VARIANTS } from '../models/synth/decoder-graph.ts';
import { presetFromConfig } from '../models/synth/preset-from-config.ts';
import { applyOverrides, SYNTH_PRESET_NAMES, SYNTH_PRESETS, type SynthPreset } from '../models/synth/synth-presets.ts';
import { synthesizeModel } from '../models/synth/synthesize-model.ts';
import { cacheBytesPerToken } from '../tasks/generate/generation-memory.ts';
import { measureCopyBandwidth } from './measure-bandwidth.ts';
import { measureGeneration, type GenerationMeasurement } from './measure-generation.ts';

export const BENCH_USAGE =
  '  honnx bench PRESET|CONFIG.json|FOLDER [--variant q4|q4f16|fp16|fp32] [--prompt-tokens 16,512] [--new-tokens 32]\n' +
  '              [--streams 1,4] [--threads N] [--layers N] [--hidden H] [--cache DIR] [--json]\n' +
  `      what tok/s and memory a model of that size and quantization gets on this box, before downloading it: a preset\n` +
  `      (${SYNTH_PRESET_NAMES.join(', ')}) or a hub model's config.json (qwen3, llama) is written once with random\n` +
  '      weights of its exact shape into the cache (HONNX_CACHE/../bench); a model folder is measured as it is';

class BenchUsageError extends Error {}

interface BenchTarget {
  /** What the figures are of, as printed. */
  description: string;
  folder: string;
  variant: ModelVariant;
}

const readList = (value: string, flag: string): number[] => {
  const numbers = value.split(',').map(Number);
  if (numbers.some((number) => !Number.isInteger(number) || number < 1)) throw new BenchUsageError(`honnx bench: ${flag} is a list of positive whole numbers such as 16,512 (got "${value}")`);
  return numbers;
};

const readCount = (value: string | undefined, flag: string): number | undefined => {
  if (value === undefined) return undefined;
  const [count] = readList(value, flag);
  return count;
};

/** Folder name of a synthesized shape: the preset and overrides, and a hash of the config it came from. */
function synthFolderName(preset: SynthPreset, variantLayers: string, configText?: string): string {
  const digest = configText === undefined ? '' : `-${createHash('sha256').update(configText).digest('hex').slice(0, 12)}`;
  return `${preset.name.replace(/[^A-Za-z0-9._-]/g, '_')}${variantLayers}${digest}`;
}

async function findTarget(source: string, options: { variant: ModelVariant; layers?: number; hiddenSize?: number; cache: string }): Promise<BenchTarget> {
  const overrides = { layers: options.layers, hiddenSize: options.hiddenSize };
  const suffix = `${options.layers ? `-l${options.layers}` : ''}${options.hiddenSize ? `-h${options.hiddenSize}` : ''}`;
  let preset: SynthPreset | undefined = SYNTH_PRESETS[source];
  let configText: string | undefined;
  if (!preset && existsSync(source) && statSync(source).isFile()) {
    configText = await readFile(source, 'utf8');
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(configText) as Record<string, unknown>;
    } catch (error) {
      throw new BenchUsageError(`honnx bench: ${source} is not JSON (${(error as Error).message})`);
    }
    preset = presetFromConfig(config, basename(dirname(resolve(source))));
  }
  if (preset) {
    if (!(SYNTH_VARIANTS as readonly string[]).includes(options.variant)) throw new BenchUsageError(`honnx bench: a synthesized model has --variant ${SYNTH_VARIANTS.join(', ')} (got "${options.variant}")`);
    const folder = join(options.cache, synthFolderName(preset, suffix, configText));
    const { shape } = applyOverrides(preset, overrides);
    if (!existsSync(join(folder, 'config.json')) || !existsSync(join(folder, graphFile(folder, options.variant)))) {
      console.error(`writing ${preset.name} ${options.variant} with random weights into ${folder} (once) ...`);
      await synthesizeModel({ preset, outputFolder: folder, variant: options.variant as (typeof SYNTH_VARIANTS)[number], ...overrides });
    }
    return {
      description: `${preset.name} ${options.variant}, random weights in the shape of ${preset.imitates}: ${shape.layers} layers × hidden ${shape.hiddenSize}, ${shape.heads}/${shape.keyValueHeads} heads × ${shape.headDimension}, vocabulary ${shape.vocabularySize}`,
      folder,
      variant: options.variant,
    };
  }
  if (existsSync(join(source, 'config.json'))) {
    if (options.layers || options.hiddenSize) throw new BenchUsageError('honnx bench: --layers and --hidden apply to a preset or a config.json, not a model folder');
    return { description: `${basename(resolve(source))} ${options.variant} (${resolve(source)})`, folder: resolve(source), variant: options.variant };
  }
  throw new BenchUsageError(`honnx bench: "${source}" is neither a preset (${SYNTH_PRESET_NAMES.join(', ')}), a config.json file, nor a model folder`);
}

/** The decoder's file: the one an onnxruntime-genai folder's genai_config.json names, or the optimum variant's. */
function graphFile(folder: string, variant: ModelVariant): string {
  const genai = join(folder, 'genai_config.json');
  return existsSync(genai) ? (JSON.parse(readFileSync(genai, 'utf8')) as GenaiConfig).model.decoder.filename : onnxPath('model', variant);
}

/** Bytes of a graph and its external data (optimum's `_data`, genai's `.data`). */
async function graphBytes(folder: string, variant: ModelVariant): Promise<number> {
  const path = join(folder, graphFile(folder, variant));
  const sizes = await Promise.all([path, `${path}_data`, `${path}.data`].map((file) => stat(file).then((found) => found.size, () => 0)));
  if (sizes[0] === 0) throw new BenchUsageError(`honnx bench: ${folder} has no ${graphFile(folder, variant)}`);
  return sizes[0] + sizes[1] + sizes[2];
}

export interface BenchReport {
  model: string;
  folder: string;
  threads: number;
  loadAverage: number[];
  modelBytes: number;
  /** The estimate of weight bytes a decode step reads: the graph, less an embedding table that is only gathered. */
  weightBytesPerToken: number;
  copyBandwidth: number;
  ceilingTokensPerSecond: number;
  cacheBytesPerToken: number;
  availableBytes: number;
  figures: GenerationMeasurement;
}

/** Runs the measurement and returns everything `honnx bench` prints. */
export async function runBench(args: string[], environment: NodeJS.ProcessEnv = process.env): Promise<BenchReport> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      variant: { type: 'string' },
      'prompt-tokens': { type: 'string' },
      'new-tokens': { type: 'string' },
      streams: { type: 'string' },
      threads: { type: 'string' },
      layers: { type: 'string' },
      hidden: { type: 'string' },
      cache: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new BenchUsageError('honnx bench takes one model: a preset, a config.json or a model folder');
  const variant = values.variant ?? 'q4';
  if (!isModelVariant(variant)) throw new BenchUsageError(`honnx bench: unknown --variant "${variant}"`);
  const cache = resolve(values.cache ?? join(dirname(readModelSearchPaths(process.cwd(), environment).cache), 'bench'));
  // Every flag is checked before a model of hundreds of MB is written.
  const threads = readCount(values.threads, '--threads') ?? availableParallelism();
  const promptLengths = readList(values['prompt-tokens'] ?? '16,512', '--prompt-tokens');
  const newTokens = readCount(values['new-tokens'], '--new-tokens') ?? 32;
  const streamCounts = readList(values.streams ?? '1,4', '--streams');
  const target = await findTarget(positionals[0], { variant, layers: readCount(values.layers, '--layers'), hiddenSize: readCount(values.hidden, '--hidden'), cache });
  const config = JSON.parse(await readFile(join(target.folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  const modelBytes = await graphBytes(target.folder, variant);
  // 4-bit exports keep the embedding table in float and gather one row of it per token; float exports read it whole
  // as the (tied) output projection.
  const gatheredElementBytes = variant === 'q4' ? 4 : variant === 'q4f16' ? 2 : 0;
  const gathered = Number(config.vocab_size ?? 0) * Number(config.hidden_size ?? 0) * gatheredElementBytes;
  const weightBytesPerToken = gathered < modelBytes ? modelBytes - gathered : modelBytes;
  const copyBandwidth = measureCopyBandwidth();
  const figures = await measureGeneration({ folder: target.folder, variant, threads, promptLengths, newTokens, streamCounts });
  return {
    model: target.description,
    folder: target.folder,
    threads,
    loadAverage: loadavg(),
    modelBytes,
    weightBytesPerToken,
    copyBandwidth,
    ceilingTokensPerSecond: copyBandwidth / weightBytesPerToken,
    cacheBytesPerToken: cacheBytesPerToken(config, variant === 'fp16' || variant === 'q4f16' ? 2 : 4),
    availableBytes: (process as { availableMemory?: () => number }).availableMemory?.() ?? freemem(),
    figures,
  };
}

const milliseconds = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`);

/** The report as `honnx bench` prints it for people. */
export function formatBenchReport(report: BenchReport): string {
  const { figures } = report;
  const lengths = Object.keys(figures.timeToFirstToken).map(Number);
  const shortest = Math.min(...lengths);
  const longest = Math.max(...lengths);
  const streams = Object.entries(figures.aggregate).filter(([count]) => count !== '1');
  const context = longest + 256;
  const lines = [
    report.model,
    `  files: ${formatBytes(report.modelBytes)}; about ${formatBytes(report.weightBytesPerToken)} of weights read per token`,
    `  this box: ${report.threads} threads, copy bandwidth ${(report.copyBandwidth / 1e9).toFixed(1)} GB/s, so at most ${report.ceilingTokensPerSecond.toFixed(1)} tok/s; ` +
      `load average ${report.loadAverage.map((value) => value.toFixed(1)).join(' ')} (other work on the box lowers every figure)`,
    `  load: ${figures.loadSeconds.toFixed(1)} s`,
    `  first token: ${lengths.map((length) => `${length} prompt tokens ${milliseconds(figures.timeToFirstToken[length])}`).join(', ')}`,
    `  decode, one stream: ${figures.decodeShortContext.toFixed(1)} tok/s after ${shortest} tokens` +
      (longest === shortest ? '' : `, ${figures.decodeLongContext.toFixed(1)} after ${longest}`) +
      ` (${((figures.decodeShortContext / report.ceilingTokensPerSecond) * 100).toFixed(0)}% of the ceiling)`,
    ...streams.map(([count, rate]) => `  ${count} streams together: ${rate.toFixed(1)} tok/s (${(rate / figures.decodeShortContext).toFixed(2)}× one stream)`),
    `  memory: peak RSS ${formatBytes(figures.peakRssBytes)}; key/value cache ${formatBytes(report.cacheBytesPerToken)} per token per stream ` +
      `(${formatBytes(report.cacheBytesPerToken * context)} for one stream of ${context} tokens); ${formatBytes(report.availableBytes)} available now`,
  ];
  return lines.join('\n');
}

/** `honnx bench`. */
export async function benchCommand(args: string[]): Promise<number> {
  try {
    const report = await runBench(args);
    console.log(args.includes('--json') ? JSON.stringify(report, null, 2) : formatBenchReport(report));
    return 0;
  } catch (error) {
    // main() reports argument errors with the usage.
    if (readArgumentError(error) !== undefined) throw error;
    if (error instanceof BenchUsageError) {
      console.error(error.message);
      return 2;
    }
    console.error(`honnx bench: ${(error as Error).message}`);
    return 1;
  }
}
