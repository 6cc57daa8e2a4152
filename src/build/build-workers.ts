import { build } from 'esbuild';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FunctionSource } from './function-sources.ts';
import { honnxNodePaths, honnxRoot, honnxSourceFolder, honnxSourcePath, resolveFromHonnx } from './honnx-paths.ts';
import { keepSiblingFilesExternal, listBundledSources, treatSourcesAsPure } from './esbuild-plugins.ts';
import { estimateWorkersMemory, explainWorkersMemoryRefusal, WORKERS_LIMITS, type MemoryEstimate } from './memory-estimate.ts';
import type { ShippedModel } from './model-files-to-ship.ts';
import { readWorkersOptions } from './workers-options.ts';
import type { ModelDelivery } from '../spec/function-definition.ts';
import { toWorkerName, writeWranglerConfig, modelContentId } from './wrangler-config.ts';

export const COMPATIBILITY_DATE = '2026-04-01';
export const WORKER_SCRIPT = 'worker.mjs';
const DEFAULT_R2_BUCKET = 'honnx-models';
const R2_BINDING = 'MODELS';
/** A bound on the worker script, used to decide whether a model still fits the upload beside it. */
const SCRIPT_ALLOWANCE_BYTES = 1 << 20;

export interface WorkersFunction extends FunctionSource {
  model: ShippedModel;
}

/** A function accepted for the worker, with where its model comes from. */
interface PlannedFunction extends WorkersFunction {
  delivery: ModelDelivery;
  bucket: string;
}

/** The ORT build a worker uses: plain WASM, or the WebGPU build where a function allows WebGPU. */
interface OrtBuild {
  module: string;
  wasmFile: string;
}
const WASM_BUILD: OrtBuild = { module: 'onnxruntime-web/wasm', wasmFile: 'ort-wasm-simd-threaded.wasm' };
const WEBGPU_BUILD: OrtBuild = { module: 'onnxruntime-web/webgpu', wasmFile: 'ort-wasm-simd-threaded.asyncify.wasm' };

export interface WorkersBuildOptions {
  projectRoot: string;
  outDir: string;
  /** Worker name in wrangler.toml. */
  workerName: string;
  functions: readonly WorkersFunction[];
  /** Overrides every function's own choice of model delivery. */
  delivery?: ModelDelivery;
  minify?: boolean;
}

export interface WorkersFunctionReport {
  name: string;
  model: string;
  delivery: ModelDelivery;
  memory: MemoryEstimate;
  /** Set when the model cannot fit an isolate; the function is then not built. */
  refusal?: string;
}

export interface WorkersBuildResult {
  outDir: string;
  functions: WorkersFunctionReport[];
  /** False when every function was refused and nothing was written. */
  built: boolean;
  scriptBytes: number;
  scriptGzipBytes: number;
  wasmBytes: number;
  /** Model bytes uploaded with the worker (bundled delivery only). */
  bundledModelBytes: number;
  /** Script + WASM module + bundled model: what `wrangler deploy` uploads, before compression. */
  uploadBytes: number;
  executionProviders: string[];
  /** Project files that ended up in the script (src/..., functions/...). */
  sources: string[];
}

function chooseDelivery(fn: WorkersFunction, override: ModelDelivery | undefined, wasmBytes: number): ModelDelivery {
  const requested = override ?? readWorkersOptions(fn.definition).model;
  if (requested) return requested;
  if (SCRIPT_ALLOWANCE_BYTES + wasmBytes + fn.model.totalBytes <= WORKERS_LIMITS.uploadBytes) return 'bundle';
  return fn.model.files.every((file) => file.size <= WORKERS_LIMITS.assetFileBytes) ? 'assets' : 'r2';
}

const modelFolderIn = (delivery: ModelDelivery, modelName: string) => (delivery === 'bundle' ? `model/${modelName}` : `assets/models/${modelName}`);

function writeEntry(ort: OrtBuild, functions: readonly PlannedFunction[]): string {
  const lines = [
    `import * as ort from ${JSON.stringify(ort.module)};`,
    `import wasmModule from ${JSON.stringify(`./${ort.wasmFile}`)};`,
    `import { createWorker } from ${JSON.stringify(honnxSourcePath('runtime/workers/create-worker.ts'))};`,
  ];
  const entries: string[] = [];
  functions.forEach((fn, index) => {
    lines.push(`import function${index} from ${JSON.stringify(fn.file)};`);
    let source: string;
    if (fn.delivery === 'bundle') {
      const files = fn.model.files.map((file, fileIndex) => {
        const binding = `model${index}_${fileIndex}`;
        lines.push(`import ${binding} from ${JSON.stringify(`./${modelFolderIn('bundle', fn.model.name)}/${file.path}`)};`);
        return `${JSON.stringify(file.path)}: ${binding}`;
      });
      source = `{ from: "bundle", files: { ${files.join(', ')} } }`;
    } else if (fn.delivery === 'assets') {
      source = `{ from: "assets", prefix: ${JSON.stringify(`/models/${fn.model.name}`)} }`;
    } else {
      source = `{ from: "r2", binding: ${JSON.stringify(R2_BINDING)}, prefix: ${JSON.stringify(fn.model.name)} }`;
    }
    entries.push(`{ name: ${JSON.stringify(fn.name)}, fn: function${index}, model: ${source} }`);
  });
  lines.push(`export default createWorker({ ort, wasmModule, functions: [${entries.join(', ')}] });`);
  return `${lines.join('\n')}\n`;
}

function writeUploadScript(functions: readonly PlannedFunction[]): string {
  const lines = [
    '#!/bin/sh',
    '# Uploads the models this worker reads from R2. Pass --local for `wrangler dev`, --remote for Cloudflare.',
    'set -e',
    'cd "$(dirname "$0")"',
  ];
  for (const fn of functions.filter((candidate) => candidate.delivery === 'r2')) {
    for (const file of fn.model.files) {
      const key = `${fn.bucket}/${fn.model.name}/${file.path}`;
      lines.push(`npx wrangler r2 object put ${JSON.stringify(key)} --file ${JSON.stringify(join(fn.model.folder, file.path))} "$@"`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Empties a build folder but keeps wrangler's local state (R2 objects put with --local). */
async function clearOutput(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  for (const entry of await readdir(outDir)) if (entry !== '.wrangler') await rm(join(outDir, entry), { recursive: true, force: true });
}

/**
 * Builds one worker serving `functions`: the bundled script, the ORT WASM module, each model bundled as Data
 * modules, as static assets or left in R2, and a wrangler.toml. Functions whose model cannot fit an isolate
 * are refused and left out.
 */
export async function buildWorkers(options: WorkersBuildOptions): Promise<WorkersBuildResult> {
  const { projectRoot, outDir } = options;
  const executionProviders = [...new Set(options.functions.flatMap((fn) => fn.definition.executionProviders ?? ['wasm']))];
  const ort = executionProviders.includes('webgpu') ? WEBGPU_BUILD : WASM_BUILD;
  const wasmSource = resolveFromHonnx(`onnxruntime-web/${ort.wasmFile}`);
  const wasmBytes = (await stat(wasmSource)).size;

  const reports: WorkersFunctionReport[] = [];
  const accepted: PlannedFunction[] = [];
  for (const fn of options.functions) {
    const delivery = chooseDelivery(fn, options.delivery, wasmBytes);
    const memory = estimateWorkersMemory(fn.model);
    const refusal = explainWorkersMemoryRefusal(fn.name, fn.model, memory);
    reports.push({ name: fn.name, model: fn.model.name, delivery, memory, refusal });
    if (!refusal) accepted.push({ ...fn, delivery, bucket: readWorkersOptions(fn.definition).bucket ?? DEFAULT_R2_BUCKET });
  }
  if (accepted.length === 0) {
    // Nothing deployable: no earlier build may stay behind looking like one.
    await rm(outDir, { recursive: true, force: true });
    return { outDir, functions: reports, built: false, scriptBytes: 0, scriptGzipBytes: 0, wasmBytes: 0, bundledModelBytes: 0, uploadBytes: 0, executionProviders, sources: [] };
  }
  if (new Set(accepted.filter((fn) => fn.delivery === 'r2').map((fn) => fn.bucket)).size > 1) {
    throw new Error('functions built into one worker must share one R2 bucket');
  }

  await clearOutput(outDir);
  await copyFile(wasmSource, join(outDir, ort.wasmFile));
  let bundledModelBytes = 0;
  const copied = new Set<string>();
  for (const fn of accepted.filter((candidate) => candidate.delivery !== 'r2')) {
    const folder = modelFolderIn(fn.delivery, fn.model.name);
    if (copied.has(folder)) continue;
    copied.add(folder);
    for (const file of fn.model.files) {
      const target = join(outDir, folder, file.path);
      await mkdir(dirname(target), { recursive: true });
      await copyFile(join(fn.model.folder, file.path), target);
      if (fn.delivery === 'bundle') bundledModelBytes += file.size;
    }
  }

  const result = await build({
    stdin: { contents: writeEntry(ort, accepted), resolveDir: outDir, sourcefile: 'honnx-worker-entry.mjs', loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    minify: options.minify ?? true,
    legalComments: 'eof',
    nodePaths: honnxNodePaths,
    outfile: join(outDir, WORKER_SCRIPT),
    metafile: true,
    absWorkingDir: projectRoot,
    logLevel: 'silent',
    plugins: [keepSiblingFilesExternal(/^\.\/(model\/|ort-wasm[^/]*\.wasm$)/), treatSourcesAsPure(honnxSourceFolder)],
  });

  const usesAssets = accepted.some((fn) => fn.delivery === 'assets');
  const r2Buckets = Object.fromEntries(accepted.filter((fn) => fn.delivery === 'r2').map((fn) => [R2_BINDING, fn.bucket]));
  await writeFile(
    join(outDir, 'wrangler.toml'),
    writeWranglerConfig({
      name: options.workerName,
      main: WORKER_SCRIPT,
      compatibilityDate: COMPATIBILITY_DATE,
      dataGlobs: accepted.some((fn) => fn.delivery === 'bundle') ? ['model/**'] : undefined,
      assetsDirectory: usesAssets ? 'assets' : undefined,
      r2Buckets,
      // Read by nothing at run time: it travels with each `wrangler versions upload`, so every version lists its model.
      vars: Object.fromEntries(accepted.map((fn) => [modelDigestVariable(fn.name), modelDigestOf(fn.model)])),
      header: [`Generated by honnx build for ${accepted.map((fn) => fn.name).join(', ')}; rebuilt on every build.`, 'Serve locally: npx wrangler dev. Check the upload: npx wrangler deploy --dry-run --outdir .wrangler/dry-run'],
    }),
  );
  if (Object.keys(r2Buckets).length > 0) await writeFile(join(outDir, 'upload-model.sh'), writeUploadScript(accepted), { mode: 0o755 });

  const script = await readFile(join(outDir, WORKER_SCRIPT));
  const built: WorkersBuildResult = {
    outDir,
    functions: reports,
    built: true,
    scriptBytes: script.byteLength,
    scriptGzipBytes: gzipSync(script).byteLength,
    wasmBytes,
    bundledModelBytes,
    uploadBytes: script.byteLength + wasmBytes + bundledModelBytes,
    executionProviders,
    sources: listBundledSources(result.metafile, join(outDir, WORKER_SCRIPT), { project: projectRoot, honnx: honnxRoot }),
  };
  await writeFile(join(outDir, 'build.json'), `${JSON.stringify(built, null, 2)}\n`);
  return built;
}

/** What a worker's wrangler.toml says its model is: the version's own digest (OCI manifest, hub commit) when the function names a version, else the files' content id. */
export const modelDigestOf = (model: ShippedModel) => model.version ?? modelContentId(model.files);

/** The `[vars]` entry naming a function's model digest in its worker's wrangler.toml. */
export const modelDigestVariable = (functionName: string) => `HONNX_MODEL_DIGEST_${functionName.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;

export const workerNameFor = (functionName: string) => toWorkerName(`honnx-${functionName}`);
