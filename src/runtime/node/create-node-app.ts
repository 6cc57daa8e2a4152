import type { Engine } from '../../engine/engine.ts';
import { createFleetController, type FleetControllerOptions } from './fleet-controller.ts';
import { createHonnxApp, type HonnxAppOptions } from '../../http/create-app.ts';
import { createFunctionHost, type FunctionHost } from '../../serving/function-host.ts';
import { createServingMetrics } from '../../http/metrics/serving-metrics.ts';
import { interfacePages } from '../../http/playground/interface-pages.ts';
import { createFolderModelFiles } from '../../models/folder-model-files.ts';
import { findLockEntry, lockFilePath, readLockFileSync } from '../../models/lock/lock-file.ts';
import { assertModelMatchesLock } from '../../models/lock/verify-model.ts';
import { loadModelBundle, type ModelVariant } from '../../models/model-bundle.ts';
import { ModelNotFoundError, resolveModel, type ModelSearchPaths, type ResolvedModel } from '../../models/resolve-model.ts';
import type { NamedFunction } from './discover-functions.ts';
import { UnknownVersionError, versionOfEntry } from './fleet-controller.ts';
import { SwapRefusedError } from '../../serving/swappable-host.ts';
import { PinnedVersionError, resolveCanaryVersion, resolvePinnedVersion } from './pinned-versions.ts';
import { createWorkerLanes, type WorkerThreadOptions } from './worker-lanes.ts';
import { readSessionOptions } from './session-options.ts';

/** What `createNodeApp` serves: the functions, the engine, where models are found, worker threads, settings. */
export interface NodeAppOptions {
  functions: readonly NamedFunction[];
  engine: Engine;
  searchPaths: ModelSearchPaths;
  /** Server settings, metrics, logger and shutdown drain, passed to createHonnxApp. */
  serving?: Pick<HonnxAppOptions, 'server' | 'metrics' | 'logger' | 'drain' | 'afterAnswer'>;
  /**
   * Run each function's model on worker threads, each with sessions of its own, so that the thread answering
   * HTTP never runs inference. Unset (or 0 workers): models run on this thread with `engine`.
   */
  workerThreads?: WorkerThreadOptions;
  /** Where `<function>.eval.jsonl` eval sets are read from before a new version takes traffic. */
  functionsFolder?: string;
  fleet?: Pick<FleetControllerOptions, 'memoryLimitBytes' | 'onSwitch' | 'publicKey' | 'onAnswered'>;
}

/** Several models can be missing at once; the message names each, so one start-up shows everything to fix. */
export class MissingModelsError extends Error {
  constructor(readonly missing: readonly ModelNotFoundError[]) {
    super(missing.map((error) => error.message).join('\n\n'));
    this.name = 'MissingModelsError';
  }
}

export { PinnedVersionError } from './pinned-versions.ts';

/**
 * Builds the Node app: resolves every function's model first (refusing to start half-working when one is
 * missing), then starts loading them all. Requests get 503 until their model is ready. A model with an entry in
 * models/honnx.lock.json is re-hashed before its session is created; on any difference its function refuses
 * to load (and `ready` rejects) with a message naming each file and the sha256 expected.
 */
export function createNodeApp({ functions, engine, searchPaths, serving, workerThreads, functionsFolder, fleet: fleetOptions }: NodeAppOptions) {
  const resolved = new Map<string, ResolvedModel>();
  const missing: ModelNotFoundError[] = [];
  for (const { fn } of functions) {
    const name = fn.definition.model;
    if (resolved.has(name)) continue;
    try {
      resolved.set(name, resolveModel(name, searchPaths));
    } catch (error) {
      if (!(error instanceof ModelNotFoundError)) throw error;
      if (!missing.some((known) => known.modelName === name)) missing.push(error);
    }
  }
  if (missing.length > 0) throw new MissingModelsError(missing);

  const lockPath = lockFilePath(searchPaths.projectModels);
  const lock = readLockFileSync(lockPath);
  const versionStore = searchPaths.versionStore ?? searchPaths.cache;
  // A pinned version must be on this machine before anything serves: a mismatch stops the start, naming what is here.
  const pins = new Map(functions.map((named) => [named.name, resolvePinnedVersion({ name: named.name, definition: named.fn.definition }, lock, versionStore)]));
  const canaryProblems = functions.map((named) => resolveCanaryVersion({ name: named.name, definition: named.fn.definition }, versionStore).problem);
  const pinProblems = [...[...pins.values()].map((pin) => pin.problem), ...canaryProblems].filter(
    (problem): problem is string => problem !== undefined,
  );
  if (pinProblems.length > 0) throw new PinnedVersionError(pinProblems.join('\n\n'));
  // One check per model and variant, however many functions share it.
  const verified = new Map<string, Promise<void>>();
  const verify = (model: ResolvedModel, variant: ModelVariant) => {
    const entry = findLockEntry(lock, model.name, variant);
    if (!entry) return Promise.resolve();
    const key = `${model.name}\0${variant}`;
    if (!verified.has(key)) verified.set(key, assertModelMatchesLock(model.folder, entry, lockPath));
    return verified.get(key)!;
  };

  // The scheduler reports into the same metrics the app serves at /metrics.
  const metrics = serving?.metrics ?? createServingMetrics();
  const hosts: FunctionHost[] = [];
  /**
   * A host serving one version of a function's model: the resolved folder at start, a pulled version's folder later.
   * Its queue, batch and inference metrics carry that version, so that a canary's compare with the active one's.
   */
  const createHost = (named: NamedFunction, version: string, model: ResolvedModel, beforeLoad: () => Promise<void>) => {
    const createLanes = createWorkerLanes(named, model, workerThreads, beforeLoad);
    return createFunctionHost(
      named.name,
      named.fn.definition,
      async (definition) => {
        await beforeLoad();
        return loadModelBundle(createFolderModelFiles(model.folder, model.name), engine, { variant: definition.variant, session: readSessionOptions(definition) });
      },
      { events: metrics.eventsFor(version), createLanes },
    );
  };
  // Each function's version can change while it serves (honnx models activate, the admin endpoint, SIGHUP).
  const fleet = createFleetController({
    cacheFolder: versionStore,
    lockPath,
    functionsFolder,
    memoryLimitBytes: fleetOptions?.memoryLimitBytes,
    publicKey: fleetOptions?.publicKey,
    onSwitch: fleetOptions?.onSwitch,
    onAnswered: fleetOptions?.onAnswered,
    createHost: (functionName, version, folder, entry) => {
      const named = functions.find((candidate) => candidate.name === functionName)!;
      const model = { ...resolved.get(named.fn.definition.model)!, folder };
      return createHost(named, version, model, () => (entry ? assertModelMatchesLock(folder, entry, lockPath) : Promise.resolve()));
    },
  });
  const mounted = functions.map((named) => {
    const { fn } = named;
    const model = resolved.get(fn.definition.model)!;
    const variant = fn.definition.variant ?? 'fp32';
    const stored = pins.get(named.name)?.stored;
    const entry = stored ? stored.entry : findLockEntry(lock, model.name, variant);
    const host = stored
      ? fleet.adopt(createHost(named, versionOfEntry(entry), { ...model, folder: stored.folder }, () => assertModelMatchesLock(stored.folder, stored.entry, lockPath)), stored.folder, entry)
      : fleet.adopt(createHost(named, versionOfEntry(entry), model, () => verify(model, variant)), model.folder, entry);
    hosts.push(host);
    return { fn, host };
  });
  // The Node server carries the API reference and playground; per-function Workers bundles leave them out for size.
  const app = createHonnxApp({ ...serving, metrics, functions: mounted, pages: interfacePages });
  /**
   * Resolves when every model is loaded and warmed, and each declared canary has started (or been refused: logged,
   * and the active version serves alone, as after a refused `honnx models canary`); rejects with the first failed load.
   */
  const ready = async () => {
    await Promise.all(hosts.map((host) => host.load()));
    for (const { name, fn } of functions) {
      const { canary } = fn.definition;
      if (canary === undefined) continue;
      try {
        const report = await fleet.canary(name, canary.version, canary.percent);
        serving?.logger?.info('canary_started', { function: name, ...report, message: `${name}: canary ${report.canary} takes ${report.percent}% of requests beside ${report.active}` });
      } catch (error) {
        if (!(error instanceof SwapRefusedError || error instanceof UnknownVersionError)) throw error;
        serving?.logger?.warn('canary_refused', { function: name, message: error.message });
      }
    }
  };
  /** Stops every function's worker threads (nothing to do for models on this thread). */
  const release = () => Promise.all(hosts.map((host) => host.release())).then(() => undefined);
  return { app, hosts, resolved, ready, release, fleet };
}
