import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { readArgumentError } from './argument-errors.ts';
import type { ModelVariant } from '../models/model-bundle.ts';
import { formatBytes } from '../models/format-units.ts';
import { createHubClient, DEFAULT_TIMEOUT_MS } from '../models/hub/hub-client.ts';
import { HubError } from '../models/hub/hub-errors.ts';
import { createProgressReporter } from '../models/hub/progress.ts';
import { formatInspection } from '../models/inspect/format-inspection.ts';
import { inspectModel } from '../models/inspect/inspect-model.ts';
import { listModels, type ModelUse } from '../models/list-models.ts';
import { lockModelFolder } from '../models/lock/lock-folder.ts';
import { describeSource, findLockEntry, lockFilePath, readLockFile, upsertLockEntry, writeLockFile, type LockEntry } from '../models/lock/lock-file.ts';
import { describeMismatch, findLockMismatches } from '../models/lock/verify-model.ts';
import { isModelVariant, MODEL_VARIANTS } from '../models/model-file-selection.ts';
import { pullModel, type PullResult } from '../models/pull-model.ts';
import { formatQuantizeReport } from '../models/quantize/format-quantize-report.ts';
import { quantizePath } from '../models/quantize/quantize-files.ts';
import { DEFAULT_BLOCK_SIZE, DEFAULT_MIN_EMBEDDING_ELEMENTS, DEFAULT_MIN_WEIGHT_ELEMENTS } from '../models/quantize/quantize-model.ts';
import { SYNTH_VARIANTS, type SynthVariant } from '../models/synth/decoder-graph.ts';
import { presetFromConfig } from '../models/synth/preset-from-config.ts';
import { applyOverrides, SYNTH_PRESET_NAMES } from '../models/synth/synth-presets.ts';
import { DEFAULT_SYNTH_SEED, findPreset, synthesizeModel } from '../models/synth/synthesize-model.ts';
import { writeGgufModel } from '../models/synth/write-gguf-model.ts';
import { ModelNotFoundError, readModelSearchPaths, resolveModel, type ModelSearchPaths } from '../models/resolve-model.ts';
import { discoverFunctions } from '../runtime/node/discover-functions.ts';
import { FLEET_USAGE, fleetCommand } from './fleet-commands.ts';
import { keygenCommand, pullLockedOciModel, pullOciCommand, pushCommand, REGISTRY_USAGE, RegistryUsageError } from './registry-commands.ts';
import { readProjectSettings } from './serve-project.ts';

export const MODELS_USAGE =
  '  honnx models pull [REPO-ID|NAME] [--revision R] [--variant fp32|fp16|int8|q8|q4] [--endpoint URL] [--timeout S] [--no-lock] [--update-lock]\n' +
  '                                                     download a model from the hub (HF_ENDPOINT, HF_TOKEN) into HONNX_CACHE;\n' +
  '                                                     without a name, every locked model that is missing here\n' +
  '  honnx models ls                                    models locked, used by functions or cached: sizes, variants, functions\n' +
  '  honnx models verify [NAME]...                      re-hash every locked model; exit 1 on any mismatch\n' +
  '  honnx models lock [NAME]... [--variant V]          record the files of models found locally in models/honnx.lock.json\n' +
  '  honnx models inspect PATH|NAME [--json]            opset, inputs/outputs, operators, parameters, sizes, the task that fits\n' +
  '  honnx models quantize IN OUT --int8|--q4 [--block-size 32] [--min-elements N] [--exclude NODE]...\n' +
  '                                                     quantize a graph or a model folder (onnx/<graph>_int8.onnx, _q4.onnx)\n' +
  '  honnx models synth PRESET|CONFIG.json OUT [--variant fp32|fp16|q4|q4f16]... [--layers N] [--hidden H] [--seed S] [--external-data]\n' +
  '                    [--gguf FILE] [--accuracy-level 0-4]\n' +
  `                                                     write a random-weight model in a hub layout (${SYNTH_PRESET_NAMES.join(', ')});\n` +
  '                                                     --gguf also writes its q4 weights as a Q4_0 GGUF for llama.cpp\n' +
  REGISTRY_USAGE +
  '\n' +
  FLEET_USAGE;

interface Project {
  root: string;
  searchPaths: ModelSearchPaths;
  lockPath: string;
}

async function openProject(root: string): Promise<Project> {
  const searchPaths = readModelSearchPaths(root, process.env, await readProjectSettings(root));
  return { root, searchPaths, lockPath: lockFilePath(searchPaths.projectModels) };
}

/** The models the project's functions name; an unreadable functions/ folder is reported, not fatal, for `ls`. */
async function readModelUses(root: string): Promise<{ uses: ModelUse[]; problem?: string }> {
  const folder = join(root, 'functions');
  if (!existsSync(folder)) return { uses: [] };
  try {
    const functions = await discoverFunctions(folder);
    return { uses: functions.map(({ name, fn }) => ({ functionName: name, model: fn.definition.model, variant: fn.definition.variant ?? 'fp32' })) };
  } catch (error) {
    return { uses: [], problem: `could not read functions/: ${(error as Error).message}` };
  }
}

function readVariant(value: string | undefined, command: string): ModelVariant | undefined {
  if (value === undefined) return undefined;
  if (!isModelVariant(value)) throw new UsageError(`honnx models ${command}: --variant is one of ${MODEL_VARIANTS.join(', ')} (got "${value}")`);
  return value;
}

class UsageError extends Error {}

const display = (root: string, path: string) => {
  const relativePath = relative(root, path);
  return relativePath.startsWith('..') && relativePath.split(sep).filter((part) => part === '..').length > 2 ? path : relativePath || '.';
};

async function pullCommand(args: string[], project: Project): Promise<number> {
  if (args.some((arg) => arg.startsWith('oci://'))) return withInterrupt((signal) => pullOciCommand(args, project, signal));
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      revision: { type: 'string' },
      variant: { type: 'string' },
      endpoint: { type: 'string' },
      timeout: { type: 'string' },
      retries: { type: 'string' },
      'no-lock': { type: 'boolean' },
      'update-lock': { type: 'boolean' },
    },
  });
  const variant = readVariant(values.variant, 'pull');
  const timeoutMs = values.timeout === undefined ? Number(process.env.HONNX_HTTP_TIMEOUT ?? DEFAULT_TIMEOUT_MS / 1000) * 1000 : Number(values.timeout) * 1000;
  if (!(timeoutMs > 0)) throw new UsageError('honnx models pull: --timeout is a number of seconds');
  return withInterrupt(async (signal) => {
    const client = createHubClient({
      endpoint: values.endpoint ?? project.searchPaths.hubEndpoint,
      token: process.env.HF_TOKEN ?? process.env.HUGGING_FACE_HUB_TOKEN,
      timeoutMs,
      signal,
    });
    const common = {
      client,
      cacheFolder: project.searchPaths.cache,
      lockPath: values['no-lock'] ? undefined : project.lockPath,
      readOnlyLockPath: values['no-lock'] ? project.lockPath : undefined,
      reporter: createProgressReporter(),
      retries: values.retries === undefined ? undefined : Number(values.retries),
    };
    if (positionals.length > 1) throw new UsageError('honnx models pull takes one repository id or model name');
    if (positionals.length === 1) {
      const result = await pullModel({ ...common, repo: positionals[0], revision: values.revision, variant, replaceLockedCommit: values['update-lock'] });
      for (const note of result.notes) console.log(note);
      console.log(
        result.upToDate
          ? `${result.entry.name} (${result.entry.variant}) is already in ${result.folder} and matches the lock file`
          : `${result.entry.name} (${result.entry.variant}) → ${result.folder}, ${formatBytes(result.fetchedBytes)} fetched; ${describeLockChange(result.lockChange, display(project.root, project.lockPath))}`,
      );
      return 0;
    }
    // Without a name: every locked model that does not resolve here, verified, as a deployment does.
    const lock = await readLockFile(project.lockPath);
    if (lock.models.length === 0) throw new UsageError(`honnx models pull: name a model, or lock some first (${display(project.root, project.lockPath)} is empty)`);
    for (const entry of lock.models) {
      const local = tryResolve(entry.name, project.searchPaths);
      if (local && (await findLockMismatches(local, entry)).length === 0) {
        console.log(`${entry.name} (${entry.variant}): present in ${display(project.root, local)}`);
        continue;
      }
      const result =
        entry.source.type === 'oci'
          ? await pullLockedOciModel(entry, project, { timeoutMs, retries: common.retries, signal, plainHttp: process.env.HONNX_REGISTRY_PLAIN_HTTP === '1' })
          : // Follows the lock whatever --no-lock says: a pull of what the lock pins never writes the lock file.
            await pullModel({ ...common, lockPath: project.lockPath, readOnlyLockPath: undefined, repo: entry.source.type === 'hub' ? entry.source.repo : entry.name, variant: entry.variant });
      for (const note of result.notes) console.log(note);
      console.log(`${entry.name} (${entry.variant}) → ${result.folder}, ${formatBytes(result.fetchedBytes)} fetched`);
    }
    return 0;
  });
}

/** Runs a pull with Ctrl-C turned into an interruption that keeps what arrived; a registry or hub failure is printed, exit 1. */
async function withInterrupt(run: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort(new HubError('interrupted', 'interrupted; what arrived is kept, and the next pull resumes it'));
  process.once('SIGINT', onSignal);
  try {
    return await run(interrupt.signal);
  } catch (error) {
    if (error instanceof HubError) {
      console.error(`honnx models pull: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}

function tryResolve(name: string, searchPaths: ModelSearchPaths): string | undefined {
  try {
    return resolveModel(name, searchPaths).folder;
  } catch (error) {
    if (error instanceof ModelNotFoundError) return undefined;
    throw error;
  }
}

function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ')).join('\n');
}

async function listCommand(project: Project): Promise<number> {
  const lock = await readLockFile(project.lockPath);
  const { uses, problem } = await readModelUses(project.root);
  const listings = await listModels(project.searchPaths, lock, uses);
  if (problem) console.error(`honnx models ls: ${problem}`);
  if (listings.length === 0) {
    console.log('no models: none locked, none named by functions/, none in the cache');
    return 0;
  }
  const rows = [['MODEL', 'VARIANT', 'SIZE', 'LOCK', 'FOUND IN', 'VARIANTS THERE', 'FUNCTIONS']];
  for (const listing of listings) {
    rows.push([
      listing.name,
      listing.variant,
      listing.bytes === undefined ? '-' : formatBytes(listing.bytes),
      listing.lock ? describeSource(listing.lock.source) : 'not locked',
      listing.found ? `${listing.found.source} ${display(project.root, listing.found.folder)}` : 'MISSING',
      listing.variantsPresent.join(',') || '-',
      listing.functions.join(', ') || '-',
    ]);
  }
  console.log(formatTable(rows));
  console.log(`\nlock file: ${display(project.root, project.lockPath)}; cache: ${project.searchPaths.cache}; mirror: ${project.searchPaths.mirror ?? '(none)'}`);
  return 0;
}

async function verifyCommand(names: string[], project: Project): Promise<number> {
  const lock = await readLockFile(project.lockPath);
  const entries = names.length > 0 ? lock.models.filter((entry) => names.includes(entry.name)) : lock.models;
  const unknown = names.filter((name) => !lock.models.some((entry) => entry.name === name));
  let failed = unknown.length > 0;
  for (const name of unknown) console.error(`${name}: no lock entry in ${display(project.root, project.lockPath)}`);
  for (const entry of entries) {
    const folder = tryResolve(entry.name, project.searchPaths);
    if (!folder) {
      console.error(`✗ ${entry.name} (${entry.variant}): not found in models/, the cache or the mirror; run: npx honnx models pull ${entry.name}`);
      failed = true;
      continue;
    }
    const mismatches = await findLockMismatches(folder, entry);
    if (mismatches.length === 0) {
      console.log(`✓ ${entry.name} (${entry.variant}): ${entry.files.length} files match (${display(project.root, folder)})`);
    } else {
      failed = true;
      console.error(`✗ ${entry.name} (${entry.variant}) in ${display(project.root, folder)}:`);
      for (const mismatch of mismatches) console.error(`    ${describeMismatch(mismatch)}`);
    }
  }
  if (names.length === 0) {
    const { uses } = await readModelUses(project.root);
    for (const use of uses) {
      if (!findLockEntry(lock, use.model, use.variant)) console.error(`! function ${use.functionName} uses ${use.model} (${use.variant}), which is not locked: run npx honnx models lock ${use.model}`);
    }
  }
  if (entries.length === 0 && unknown.length === 0) console.log(`nothing to verify: ${display(project.root, project.lockPath)} locks no models`);
  return failed ? 1 : 0;
}

async function lockCommand(args: string[], project: Project): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { variant: { type: 'string' } } });
  const variant = readVariant(values.variant, 'lock');
  let targets: { name: string; variant: ModelVariant }[];
  if (positionals.length > 0) targets = positionals.map((name) => ({ name, variant: variant ?? 'fp32' }));
  else {
    const { uses, problem } = await readModelUses(project.root);
    if (problem) throw new Error(problem);
    targets = uses.map((use) => ({ name: use.model, variant: variant ?? use.variant }));
  }
  let lock = await readLockFile(project.lockPath);
  const seen = new Set<string>();
  for (const target of targets) {
    const key = `${target.name}\0${target.variant}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const resolved = resolveModel(target.name, project.searchPaths);
    const previous = findLockEntry(lock, target.name, target.variant);
    // A model pulled from a hub keeps its hub source; anything else is recorded as the folder it was found in.
    const source: LockEntry['source'] =
      previous?.source.type === 'hub' && resolved.source === 'cache' ? previous.source : { type: 'folder', path: relative(project.root, resolved.folder).split(sep).join('/') };
    const entry = await lockModelFolder(target.name, resolved.folder, target.variant, source);
    lock = upsertLockEntry(lock, entry);
    const bytes = entry.files.reduce((sum, file) => sum + file.size, 0);
    console.log(`locked ${target.name} (${target.variant}): ${entry.files.length} files, ${formatBytes(bytes)}, from ${describeSource(source)}`);
  }
  if (seen.size === 0) throw new UsageError('honnx models lock: name a model, or add functions that use one');
  await writeLockFile(project.lockPath, lock);
  console.log(`wrote ${display(project.root, project.lockPath)}`);
  return 0;
}

async function inspectCommand(args: string[], project: Project): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('honnx models inspect takes one path (a model folder or an .onnx file) or a model name');
  const [target] = positionals;
  const path = existsSync(target) ? target : tryResolve(target, project.searchPaths);
  if (!path) throw new UsageError(`honnx models inspect: ${target} is neither a path nor a model found in models/, the cache or the mirror`);
  const inspection = await inspectModel(path);
  console.log(values.json ? JSON.stringify(inspection, null, 2) : formatInspection(inspection));
  return 0;
}

async function quantizeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      int8: { type: 'boolean' },
      q4: { type: 'boolean' },
      'block-size': { type: 'string' },
      'min-elements': { type: 'string' },
      'min-embedding-elements': { type: 'string' },
      exclude: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 2) throw new UsageError('honnx models quantize takes an input and an output: IN OUT --int8|--q4');
  if (Boolean(values.int8) === Boolean(values.q4)) throw new UsageError('honnx models quantize: choose exactly one of --int8 and --q4');
  const readNumber = (value: string | undefined, fallback: number, flag: string) => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) throw new UsageError(`honnx models quantize: ${flag} is a whole number (got "${value}")`);
    return parsed;
  };
  if (values['block-size'] !== undefined && !values.q4) throw new UsageError('honnx models quantize: --block-size applies to --q4 only');
  const results = await quantizePath(positionals[0], positionals[1], {
    mode: values.q4 ? 'q4' : 'int8',
    blockSize: readNumber(values['block-size'], DEFAULT_BLOCK_SIZE, '--block-size'),
    minWeightElements: readNumber(values['min-elements'], DEFAULT_MIN_WEIGHT_ELEMENTS, '--min-elements'),
    minEmbeddingElements: readNumber(values['min-embedding-elements'], DEFAULT_MIN_EMBEDDING_ELEMENTS, '--min-embedding-elements'),
    exclude: values.exclude,
  });
  console.log(values.json ? JSON.stringify(results, null, 2) : results.map(formatQuantizeReport).join('\n\n'));
  return 0;
}

async function synthCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      variant: { type: 'string', multiple: true },
      layers: { type: 'string' },
      hidden: { type: 'string' },
      seed: { type: 'string' },
      'external-data': { type: 'boolean' },
      gguf: { type: 'string' },
      'accuracy-level': { type: 'string' },
    },
  });
  if (positionals.length !== 2) throw new UsageError(`honnx models synth takes a preset and an output folder: PRESET OUT (presets: ${SYNTH_PRESET_NAMES.join(', ')})`);
  const [presetName, outputFolder] = positionals;
  // A hub model's config.json gives a preset of that model's exact shape.
  const preset = SYNTH_PRESET_NAMES.includes(presetName) ? findPreset(presetName) : existsSync(presetName) ? presetFromConfig(JSON.parse(readFileSync(presetName, 'utf8')), basename(dirname(resolve(presetName)))) : undefined;
  if (!preset) throw new UsageError(`honnx models synth: unknown preset "${presetName}"; presets: ${SYNTH_PRESET_NAMES.join(', ')}, or the path of a qwen3 or llama config.json`);
  const variants = values.variant ?? ['fp32'];
  if (preset.layout === 'genai' && variants.length > 1) throw new UsageError(`honnx models synth: ${preset.name} is one build per folder (genai's model.onnx); give one --variant`);
  for (const variant of variants) {
    if (!(SYNTH_VARIANTS as readonly string[]).includes(variant)) throw new UsageError(`honnx models synth: --variant is one of ${SYNTH_VARIANTS.join(', ')} (got "${variant}")`);
  }
  const readInteger = (value: string | undefined, flag: string) => {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) throw new UsageError(`honnx models synth: ${flag} is a whole number (got "${value}")`);
    return parsed;
  };
  const layers = readInteger(values.layers, '--layers');
  const hiddenSize = readInteger(values.hidden, '--hidden');
  const seed = readInteger(values.seed, '--seed') ?? DEFAULT_SYNTH_SEED;
  const accuracyLevel = readInteger(values['accuracy-level'], '--accuracy-level');
  if (accuracyLevel !== undefined && accuracyLevel > 4) throw new UsageError(`honnx models synth: --accuracy-level is 0 to 4 (got ${accuracyLevel})`);
  for (const variant of variants as SynthVariant[]) {
    const result = await synthesizeModel({ preset, outputFolder, variant, layers, hiddenSize, seed, externalData: values['external-data'], accuracyLevel: accuracyLevel as 0 | 1 | 2 | 3 | 4 | undefined });
    const { shape } = result;
    console.log(
      `${result.onnxFile}${result.externalData ? ' (+ _data)' : ''}: ${variant}, ${formatBytes(result.bytes)}, ${shape.layers} layers × hidden ${shape.hiddenSize}, ` +
        `${shape.heads}/${shape.keyValueHeads} heads × ${shape.headDimension}, written in ${result.seconds.toFixed(1)} s`,
    );
  }
  if (values.gguf !== undefined) {
    const started = performance.now();
    const bytes = await writeGgufModel(values.gguf, { preset, shape: applyOverrides(preset, { layers, hiddenSize }).shape, seed });
    console.log(`${values.gguf}: Q4_0 GGUF of the q4 weights, ${formatBytes(bytes)}, written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return 0;
}

/** `honnx models <subcommand>`. */
/** What a pull did to the lock file, as the CLI says it: "locked" only when the file was written. */
function describeLockChange(change: PullResult['lockChange'], lockPath: string): string {
  if (change === 'added') return `locked in ${lockPath}`;
  if (change === 'updated') return `lock entry updated in ${lockPath}`;
  if (change === 'unchanged') return `matches its entry in ${lockPath}, which is unchanged`;
  return 'not locked (--no-lock)';
}

export async function modelsCommand(args: string[], projectRoot = process.cwd()): Promise<number> {
  const [subcommand, ...rest] = args;
  try {
    const project = await openProject(projectRoot);
    switch (subcommand) {
      case 'pull':
        return await pullCommand(rest, project);
      case 'ls':
      case 'list':
        return await listCommand(project);
      case 'verify':
        return await verifyCommand(rest, project);
      case 'lock':
        return await lockCommand(rest, project);
      case 'inspect':
        return await inspectCommand(rest, project);
      case 'quantize':
        return await quantizeCommand(rest);
      case 'synth':
        return await synthCommand(rest);
      case 'push':
        return await pushCommand(rest, project);
      case 'keygen':
        return await keygenCommand(rest);
      case 'activate':
      case 'rollback':
      case 'canary':
      case 'promote':
      case 'abort':
        return await fleetCommand(subcommand, rest);
      default:
        console.error(`honnx models: ${subcommand ? `unknown subcommand "${subcommand}"` : 'a subcommand is needed'}\n\n${MODELS_USAGE}`);
        return 2;
    }
  } catch (error) {
    const argumentError = readArgumentError(error);
    if (argumentError !== undefined) {
      console.error(`honnx models ${subcommand}: ${argumentError}\n\nUsage:\n${MODELS_USAGE}`);
      return 2;
    }
    if (error instanceof UsageError || error instanceof RegistryUsageError) {
      console.error((error as Error).message);
      return 2;
    }
    if (error instanceof ModelNotFoundError) {
      console.error(error.message);
      return 1;
    }
    console.error(`honnx models ${subcommand}: ${(error as Error).message}`);
    return 1;
  }
}
