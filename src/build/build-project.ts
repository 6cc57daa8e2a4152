import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { ModelNotFoundError, readModelSearchPaths, resolveModel, type ResolvedModel } from '../models/resolve-model.ts';
import { MissingModelsError } from '../runtime/node/create-node-app.ts';
import { readProjectSettings } from '../runtime/node/node-server.ts';
import { digestBuildInputs, readBuildRecord, writeBuildRecord } from './build-inputs.ts';
import { buildNode } from './build-node.ts';
import { buildWorkers, workerNameFor, type WorkersBuildResult, type WorkersFunction } from './build-workers.ts';
import { listFunctionSources } from './function-sources.ts';
import { WORKERS_LIMITS } from './memory-estimate.ts';
import { listShippedModel, type ShippedModel } from './model-files-to-ship.ts';
import type { ModelDelivery } from '../spec/function-definition.ts';

export type BuildTarget = 'workers' | 'node';
export const BUILD_TARGETS: readonly BuildTarget[] = ['workers', 'node'];

export interface BuildProjectOptions {
  projectRoot: string;
  targets?: readonly BuildTarget[];
  /** Only these functions (by name); all of `functions/` by default. */
  only?: readonly string[];
  /** `dist` under the project by default; each target writes `<outDir>/<target>/<function>/`. */
  outDir?: string;
  /** Workers: where every function's model comes from, overriding each function's own choice. */
  delivery?: ModelDelivery;
  /** Node: copy the model into the artifact. */
  includeModel?: boolean;
  /** Workers: build every selected function into this one worker folder instead (local edge testing). */
  oneWorker?: string;
}

/** One line of the build table. */
export interface BuildRow {
  function: string;
  target: BuildTarget;
  outDir?: string;
  /** The script or entry alone, without the WASM module and the model. */
  bundleBytes: number;
  bundleGzipBytes: number;
  /** Workers: script + WASM + bundled model, what `wrangler deploy` uploads. */
  uploadBytes?: number;
  modelBytes: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  /** Workers: bundle, assets or r2; node: manifest or included. */
  delivery: string;
  refusal?: string;
  /** A one-worker build found nothing changed since its last build, and left it as it was. */
  unchanged?: boolean;
}

async function resolveModels(projectRoot: string, names: readonly string[]): Promise<{ models: Map<string, ResolvedModel>; mirror?: string }> {
  const searchPaths = readModelSearchPaths(projectRoot, process.env, await readProjectSettings(projectRoot));
  const models = new Map<string, ResolvedModel>();
  const missing: ModelNotFoundError[] = [];
  for (const name of new Set(names)) {
    try {
      models.set(name, resolveModel(name, searchPaths));
    } catch (error) {
      if (!(error instanceof ModelNotFoundError)) throw error;
      missing.push(error);
    }
  }
  if (missing.length > 0) throw new MissingModelsError(missing);
  return { models, mirror: searchPaths.mirror };
}

/**
 * `honnx build`: each function of the project into one artifact per target, models resolved as
 * `honnx serve` resolves them. A function whose model cannot fit a Workers isolate is refused for that
 * target (its row says why) and the others are still built.
 */
export async function buildProject(options: BuildProjectOptions): Promise<BuildRow[]> {
  const { projectRoot } = options;
  const targets = options.targets ?? BUILD_TARGETS;
  const outDir = options.outDir ?? join(projectRoot, 'dist');
  const sources = (await listFunctionSources(join(projectRoot, 'functions'))).filter((fn) => !options.only || options.only.includes(fn.name));
  if (options.only) {
    const unknown = options.only.filter((name) => !sources.some((fn) => fn.name === name));
    if (unknown.length > 0) throw new Error(`no function named ${unknown.join(', ')} in functions/`);
  }
  // A build ships the model its name resolves to; one pinned at a version would silently ship another, so it is refused.
  const pinned = sources.filter((fn) => fn.definition.modelVersion !== undefined);
  if (pinned.length > 0) {
    throw new Error(
      `honnx build does not build a pinned model version yet (${pinned.map((fn) => `${fn.name}: ${fn.definition.model}@${fn.definition.modelVersion}`).join(', ')}); ` +
        'lock that version instead (honnx models pull ... --update-lock) and leave "@version" out of the function',
    );
  }
  // A build ships one version per function; a declared canary would be silently dropped, so it is refused too.
  const canaries = sources.filter((fn) => fn.definition.canary !== undefined);
  if (canaries.length > 0) {
    throw new Error(
      `honnx build does not build a canary (${canaries.map((fn) => `${fn.name}: ${fn.definition.canary!.version} at ${fn.definition.canary!.percent}%`).join(', ')}); ` +
        'on Workers, upload the new version with wrangler versions upload and split traffic with a gradual deployment (docs/edge.md)',
    );
  }
  const { models, mirror } = await resolveModels(projectRoot, sources.map((fn) => fn.definition.model));
  const shipped = new Map<string, ShippedModel>();
  const withModels = [];
  for (const fn of sources) {
    const resolved = models.get(fn.definition.model)!;
    const key = `${resolved.name}@${fn.definition.variant ?? 'fp32'}`;
    if (!shipped.has(key)) shipped.set(key, await listShippedModel(resolved.name, resolved.folder, fn.definition.variant));
    withModels.push({ ...fn, model: shipped.get(key)! });
  }
  if (options.oneWorker) return buildOneWorker(projectRoot, options.oneWorker, withModels, options.delivery);

  const rows: BuildRow[] = [];
  for (const fn of withModels) {
    if (targets.includes('workers')) {
      const result = await buildWorkers({ projectRoot, outDir: join(outDir, 'workers', fn.name), workerName: workerNameFor(fn.name), functions: [fn], delivery: options.delivery });
      rows.push(...toWorkersRows(result, [fn]));
    }
    if (targets.includes('node')) {
      const result = await buildNode({ projectRoot, outDir: join(outDir, 'node', fn.name), fn, includeModel: options.includeModel, mirror });
      rows.push({
        function: fn.name,
        target: 'node',
        outDir: result.outDir,
        bundleBytes: result.entryBytes,
        bundleGzipBytes: result.entryGzipBytes,
        modelBytes: fn.model.totalBytes,
        memoryBytes: result.memory.totalBytes,
        memoryLimitBytes: totalmem(),
        delivery: result.modelIncluded ? 'included' : 'manifest',
      });
    }
  }
  return rows;
}

/**
 * Every function in one worker (what the root wrangler.toml serves), rebuilt only when something it is made from
 * changed: `wrangler dev` runs its custom build once at start and again as soon as its file watcher is ready
 * (wrangler 4.86's BundlerController), with nothing changed in between; the second run finds the same inputs and
 * leaves the worker as it is. Its rows then say `unchanged`.
 */
async function buildOneWorker(projectRoot: string, outDir: string, functions: WorkersFunction[], delivery: ModelDelivery | undefined): Promise<BuildRow[]> {
  const inputs = functions.map((fn) => ({ name: fn.name, model: { folder: fn.model.folder, files: fn.model.files, variant: fn.model.variant } }));
  const digest = await digestBuildInputs(projectRoot, { outDir, delivery, functions: inputs });
  const previous = await readBuildRecord<BuildRow[]>(outDir);
  if (previous?.digest === digest && existsSync(join(outDir, 'worker.mjs'))) return previous.report.map((row) => ({ ...row, unchanged: true }));
  const rows = toWorkersRows(await buildWorkers({ projectRoot, outDir, workerName: 'honnx-dev', functions, delivery }), functions);
  if (rows.some((row) => row.outDir)) await writeBuildRecord(outDir, digest, rows);
  return rows;
}

/** One row per function of a worker build (several when they share one worker, as the repository's wrangler.toml does). */
function toWorkersRows(result: WorkersBuildResult, functions: readonly WorkersFunction[]): BuildRow[] {
  return result.functions.map((report) => ({
    function: report.name,
    target: 'workers',
    outDir: result.built && !report.refusal ? result.outDir : undefined,
    bundleBytes: result.scriptBytes,
    bundleGzipBytes: result.scriptGzipBytes,
    uploadBytes: result.uploadBytes,
    modelBytes: functions.find((fn) => fn.name === report.name)!.model.totalBytes,
    memoryBytes: report.memory.totalBytes,
    memoryLimitBytes: WORKERS_LIMITS.memoryBytes,
    delivery: report.delivery,
    refusal: report.refusal,
  }));
}
