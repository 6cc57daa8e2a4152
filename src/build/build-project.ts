import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { lockFilePath, readLockFile, type LockFile } from '../models/lock/lock-file.ts';
import { ModelNotFoundError, readModelSearchPaths, resolveModel, type ModelSearchPaths, type ResolvedModel } from '../models/resolve-model.ts';
import { MissingModelsError } from '../runtime/node/create-node-app.ts';
import { versionOfEntry } from '../runtime/node/fleet-controller.ts';
import { PinnedVersionError, resolveCanaryVersion, resolvePinnedVersion } from '../runtime/node/pinned-versions.ts';
import type { ModelVersion } from '../models/versions/model-versions.ts';
import { readProjectSettings } from '../runtime/node/node-server.ts';
import { digestBuildInputs, readBuildRecord, writeBuildRecord } from './build-inputs.ts';
import { buildNode } from './build-node.ts';
import { buildWorkers, modelDigestOf, workerNameFor, type WorkersBuildResult, type WorkersFunction } from './build-workers.ts';
import { DEPLOYMENT_SCRIPT, formatDeploymentSteps, planGradualDeployment, writeDeploymentScript } from './gradual-deployment.ts';
import { listFunctionSources, type FunctionSource } from './function-sources.ts';
import { WORKERS_LIMITS } from './memory-estimate.ts';
import { listShippedModel, listShippedVersion, type ShippedModel } from './model-files-to-ship.ts';
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
  /**
   * On the rows of a function that declares a canary: its version and share. A node artifact carries both versions;
   * on Workers each is a version of the same worker (`worker` says which this row built).
   */
  canary?: { version: string; percent: number; worker?: 'active' | 'canary' };
  /** Workers, on the canary's row: the gradual deployment's commands, in order (also in its gradual-deploy.sh). */
  deploySteps?: string[];
}

/** A declared canary as the build ships it: the version from the version store, its files checked, and its share. */
interface ShippedCanary {
  version: ModelVersion;
  model: ShippedModel;
  percent: number;
}

/** Every function's model by name, found as `honnx serve` finds it; all the missing ones named at once. */
function resolveModels(searchPaths: ModelSearchPaths, names: readonly string[]): Map<string, ResolvedModel> {
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
  return models;
}

/**
 * The files a function ships: the version it pins, resolved as `honnx serve` resolves a pin (the locked copy when
 * the lock pins it, else the version store), checked against that version's entry; else what its name resolves to.
 */
function shipFunctionModel(fn: FunctionSource, resolved: ResolvedModel, lock: LockFile, lockPath: string, cacheFolder: string): Promise<ShippedModel> {
  const pin = resolvePinnedVersion(fn, lock, cacheFolder);
  if (pin.stored) return listShippedVersion(pin.stored.folder, pin.stored.entry, versionOfEntry(pin.stored.entry), `the version store (${pin.stored.folder})`);
  if (pin.locked) return listShippedVersion(resolved.folder, pin.locked, versionOfEntry(pin.locked), lockPath);
  return listShippedModel(resolved.name, resolved.folder, fn.definition.variant);
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
  const searchPaths = readModelSearchPaths(projectRoot, process.env, await readProjectSettings(projectRoot));
  const models = resolveModels(searchPaths, sources.map((fn) => fn.definition.model));
  const lockPath = lockFilePath(searchPaths.projectModels);
  const lock = await readLockFile(lockPath);
  // A pinned or canary version this machine does not hold stops the build before anything is written, as it stops honnx serve.
  const canaryVersions = new Map(sources.map((fn) => [fn.name, resolveCanaryVersion(fn, searchPaths.cache)]));
  const problems = [...sources.map((fn) => resolvePinnedVersion(fn, lock, searchPaths.cache).problem), ...[...canaryVersions.values()].map((canary) => canary.problem)].filter(
    (problem): problem is string => problem !== undefined,
  );
  if (problems.length > 0) throw new PinnedVersionError(problems.join('\n\n'));
  const shipped = new Map<string, Promise<ShippedModel>>();
  const withModels = [];
  for (const fn of sources) {
    const key = [fn.definition.model, fn.definition.variant ?? 'fp32', fn.definition.modelVersion ?? ''].join('\0');
    if (!shipped.has(key)) shipped.set(key, shipFunctionModel(fn, models.get(fn.definition.model)!, lock, lockPath, searchPaths.cache));
    withModels.push({ ...fn, model: await shipped.get(key)! });
  }
  // One worker serving every function is for local edge testing (wrangler dev), which has no gradual deployments:
  // it serves each function's active version.
  if (options.oneWorker) return buildOneWorker(projectRoot, options.oneWorker, withModels, options.delivery);
  const canaries = new Map<string, ShippedCanary>();
  for (const fn of withModels) {
    const stored = canaryVersions.get(fn.name)?.stored;
    if (!stored) continue;
    const model = await listShippedVersion(stored.folder, stored.entry, versionOfEntry(stored.entry), `the version store (${stored.folder})`);
    canaries.set(fn.name, { version: stored, model, percent: fn.definition.canary!.percent });
  }

  const rows: BuildRow[] = [];
  for (const fn of withModels) {
    const canary = canaries.get(fn.name);
    if (targets.includes('workers')) {
      const folder = join(outDir, 'workers', fn.name);
      const result = await buildWorkers({ projectRoot, outDir: folder, workerName: workerNameFor(fn.name), functions: [fn], delivery: options.delivery });
      rows.push(...toWorkersRows(result, [fn]).map((row) => (canary ? { ...row, canary: { version: canary.version.digest, percent: canary.percent, worker: 'active' as const } } : row)));
      // No canary (any more): no earlier canary worker may stay behind looking like one to upload.
      if (!canary) await rm(canaryWorkerFolder(folder), { recursive: true, force: true });
      else rows.push(...(await buildWorkersCanary(projectRoot, fn, canary, result, options.delivery)));
    }
    if (targets.includes('node')) {
      // A version (a pin, a canary) always travels inside the artifact: a mirror or cache holds one copy per model
      // name, so no box could find that version by name, and an artifact has no honnx command to pull it.
      const result = await buildNode({
        projectRoot,
        outDir: join(outDir, 'node', fn.name),
        fn,
        includeModel: options.includeModel || fn.model.version !== undefined,
        mirror: searchPaths.mirror,
        canary,
      });
      rows.push({
        function: fn.name,
        target: 'node',
        outDir: result.outDir,
        bundleBytes: result.entryBytes,
        bundleGzipBytes: result.entryGzipBytes,
        modelBytes: fn.model.totalBytes + (canary?.model.totalBytes ?? 0),
        memoryBytes: result.memory.totalBytes,
        memoryLimitBytes: totalmem(),
        delivery: `${result.modelIncluded ? 'included' : 'manifest'}${canary ? ', canary included' : ''}`,
        ...(canary ? { canary: { version: canary.version.digest, percent: canary.percent } } : {}),
      });
    }
  }
  return rows;
}

/** Where a function's canary worker is written: beside its worker's folder, so that neither uploads the other's files. */
const canaryWorkerFolder = (workerFolder: string) => `${workerFolder}.canary`;

/**
 * A declared canary on Workers, where a version of a worker serves one model: the canary's worker (the same worker
 * name, its own model and HONNX_MODEL_DIGEST) beside the active one's, and the gradual deployment that splits
 * traffic between the two versions (printed, and written as gradual-deploy.sh in the canary's folder).
 */
async function buildWorkersCanary(projectRoot: string, fn: WorkersFunction, canary: ShippedCanary, active: WorkersBuildResult, delivery: ModelDelivery | undefined): Promise<BuildRow[]> {
  const workerName = workerNameFor(fn.name);
  const canaryFunction = { ...fn, model: canary.model };
  const result = await buildWorkers({ projectRoot, outDir: canaryWorkerFolder(active.outDir), workerName, functions: [canaryFunction], delivery });
  const rows = toWorkersRows(result, [canaryFunction]).map((row) => ({ ...row, canary: { version: canary.version.digest, percent: canary.percent, worker: 'canary' as const } }));
  if (!active.built || !result.built) return rows;
  const plan = {
    functionName: fn.name,
    workerName,
    active: { folder: active.outDir, digest: modelDigestOf(fn.model) },
    canary: { folder: result.outDir, digest: modelDigestOf(canary.model) },
    percent: canary.percent,
  };
  const steps = planGradualDeployment(plan);
  await writeFile(join(result.outDir, DEPLOYMENT_SCRIPT), writeDeploymentScript(plan, steps), { mode: 0o755 });
  return rows.map((row) => ({ ...row, deploySteps: formatDeploymentSteps(steps, projectRoot) }));
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
