import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { HubError } from '../../models/hub/hub-errors.ts';
import { checkDigestSignature } from '../../models/oci/model-signature.ts';
import { readLockFileSync, findLockEntry, type LockEntry } from '../../models/lock/lock-file.ts';
import { readEvalSet } from '../../serving/eval-set.ts';
import { findModelVersion, type ModelVersion } from '../../models/versions/model-versions.ts';
import { createSwappableHost, SwapRefusedError, type CanaryReport, type SwappableHost, type SwapReport, type VersionSlot } from '../../serving/swappable-host.ts';
import type { FunctionHost, ServedVersions } from '../../serving/function-host.ts';

/** What a version of a lock entry is called: its OCI manifest digest, its hub commit, or "local" for a folder. */
export function versionOfEntry(entry: LockEntry | undefined): string {
  if (!entry) return 'local';
  return entry.source.type === 'oci' ? entry.source.digest : entry.source.type === 'hub' ? entry.source.commit : 'local';
}

const modelBytesOf = (entry: LockEntry | undefined) => entry?.files.reduce((sum, file) => sum + file.size, 0) ?? 0;

/** Where a fleet controller finds versions (the cache, the lock file, eval sets) and how it makes a host for one. */
export interface FleetControllerOptions {
  /** HONNX_CACHE, where pulled versions are kept (`<cache>/.versions/`). */
  cacheFolder: string;
  lockPath: string;
  /** Where `<function>.eval.jsonl` files are read from. */
  functionsFolder?: string;
  /** A fresh host for a function, serving `version`, the model in `folder` (checked against `entry` before its session is made). */
  createHost: (functionName: string, version: string, folder: string, entry: LockEntry | undefined) => FunctionHost;
  memoryLimitBytes?: number;
  /** HONNX_MODEL_PUBLIC_KEY: when set, only versions whose manifest digest this key signed are activated. */
  publicKey?: KeyObject;
  onSwitch?: (functionName: string, report: SwapReport) => void;
  /** Every (non-streamed) answer with the version that gave it: per-version confidence in /metrics. */
  onAnswered?: (functionName: string, version: string, answer: unknown) => void;
}

export class UnknownVersionError extends Error {
  override name = 'UnknownVersionError';
}

/** Swaps a running server's function models to another locked version (fleet updates), one function at a time. */
export interface FleetController {
  /** Wraps a function's first host, so its version can change later. */
  adopt(host: FunctionHost, folder: string, entry: LockEntry | undefined): SwappableHost;
  hosts(): ReadonlyMap<string, SwappableHost>;
  activate(functionName: string, selector: string): Promise<SwapReport>;
  rollback(functionName: string): Promise<SwapReport>;
  /** Loads a version beside the active one (memory, eval gate) and sends it `percent` of requests; again with the same version: a new share. */
  canary(functionName: string, selector: string, percent: number): Promise<CanaryReport>;
  promote(functionName: string): SwapReport;
  abort(functionName: string): SwapReport;
  /** SIGHUP: re-reads the lock file and swaps every function whose locked version is not the one serving. */
  reloadLock(): Promise<{ functionName: string; report?: SwapReport; error?: string }[]>;
  describe(): Record<string, ServedVersions & { draining: number }>;
}

/** The versions of every function on one server: activate, roll back, and follow the lock file on SIGHUP. */
export function createFleetController(options: FleetControllerOptions): FleetController {
  const hosts = new Map<string, SwappableHost>();
  const versionsByFunction = new Map<string, Map<string, ModelVersion | { folder: string; entry: LockEntry | undefined }>>();

  const slotFor = (functionName: string, version: string, folder: string, entry: LockEntry | undefined): VersionSlot => {
    versionsByFunction.get(functionName)?.set(version, { folder, entry });
    return { version, host: options.createHost(functionName, version, folder, entry), modelBytes: modelBytesOf(entry) };
  };

  /** Before anything is activated: a box that requires signed models takes only versions signed by its key. */
  const checkTrusted = (functionName: string, found: { version: string; entry: LockEntry | undefined }) => {
    if (!options.publicKey) return;
    const source = found.entry?.source;
    try {
      if (source?.type !== 'oci') throw new HubError('integrity', `version ${found.version} did not come from a registry, so it carries no signature; refused`);
      checkDigestSignature(source.digest, source.signature, options.publicKey, `${source.registry}/${source.repository}`);
    } catch (error) {
      throw new SwapRefusedError('signature', `function ${functionName}: ${(error as Error).message}; ${hostOf(functionName).activeVersion()} keeps serving`);
    }
  };

  const hostOf = (functionName: string) => {
    const host = hosts.get(functionName);
    if (!host) throw new UnknownVersionError(`no function named ${functionName}`);
    return host;
  };

  async function findVersion(functionName: string, selector: string): Promise<{ version: string; folder: string; entry: LockEntry | undefined }> {
    const host = hostOf(functionName);
    const known = versionsByFunction.get(functionName)?.get(selector);
    if (known) return { version: selector, ...known };
    const stored = await findModelVersion(options.cacheFolder, host.definition.model, selector);
    if (!stored) {
      throw new UnknownVersionError(`model ${host.definition.model} of function ${functionName} has no version "${selector}" on this machine; pull it first: honnx models pull oci://<registry>/<repository>:${selector} (or, from a hub, honnx models pull ${host.definition.model} --revision ${selector})`);
    }
    return { version: stored.digest, folder: stored.folder, entry: stored.entry };
  }

  const controller: FleetController = {
    adopt(host, folder, entry) {
      const version = versionOfEntry(entry);
      versionsByFunction.set(host.name, new Map([[version, { folder, entry }]]));
      const swappable = createSwappableHost(
        { version, host, modelBytes: modelBytesOf(entry) },
        {
          readEvalSet: options.functionsFolder ? () => readEvalSet(join(options.functionsFolder!, `${host.name}.eval.jsonl`)) : undefined,
          memoryLimitBytes: options.memoryLimitBytes,
          onSwitch: (report) => options.onSwitch?.(host.name, report),
          // A task that reports its own confidence (the generative ones) has it recorded by the HTTP layer already.
          onAnswered: options.onAnswered && !host.endpoint.separateConfidence ? (version, answer) => options.onAnswered!(host.name, version, answer) : undefined,
        },
      );
      hosts.set(host.name, swappable);
      return swappable;
    },
    hosts: () => hosts,
    async activate(functionName, selector) {
      const host = hostOf(functionName);
      const found = await findVersion(functionName, selector);
      if (found.version === host.activeVersion()) return { version: found.version, previous: found.version };
      checkTrusted(functionName, found);
      return host.activate(slotFor(functionName, found.version, found.folder, found.entry));
    },
    async canary(functionName, selector, percent) {
      const host = hostOf(functionName);
      const found = await findVersion(functionName, selector);
      if (host.canary()?.version === found.version) return host.setCanaryPercent(percent);
      if (found.version === host.activeVersion()) throw new SwapRefusedError('busy', `function ${functionName} serves ${found.version} already; a canary is another version`);
      checkTrusted(functionName, found);
      return host.startCanary(slotFor(functionName, found.version, found.folder, found.entry), percent);
    },
    promote: (functionName) => hostOf(functionName).promoteCanary(),
    abort: (functionName) => hostOf(functionName).abortCanary(),
    async rollback(functionName) {
      const host = hostOf(functionName);
      const previous = host.previousVersion();
      if (!previous) throw new UnknownVersionError(`function ${functionName} has no earlier version to roll back to`);
      const found = await findVersion(functionName, previous);
      checkTrusted(functionName, found);
      // Going back to what served before needs no eval: it passed (or predates) the gate once.
      return host.activate(slotFor(functionName, found.version, found.folder, found.entry), { skipEval: true });
    },
    async reloadLock() {
      const lock = readLockFileSync(options.lockPath);
      const results: Awaited<ReturnType<FleetController['reloadLock']>> = [];
      for (const [functionName, host] of hosts) {
        // A function whose model reference pins a version keeps it, whatever the lock says.
        if (host.definition.modelVersion !== undefined) continue;
        const entry = findLockEntry(lock, host.definition.model, host.definition.variant ?? 'fp32');
        const version = versionOfEntry(entry);
        if (!entry || version === host.activeVersion()) continue;
        try {
          results.push({ functionName, report: await controller.activate(functionName, version) });
        } catch (error) {
          if (!(error instanceof SwapRefusedError || error instanceof UnknownVersionError)) throw error;
          results.push({ functionName, error: error.message });
        }
      }
      return results;
    },
    describe() {
      return Object.fromEntries([...hosts].map(([name, host]) => [name, { ...host.modelVersions(), draining: host.draining() }]));
    },
  };
  return controller;
}
