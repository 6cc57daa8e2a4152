import { findLockEntry, type LockEntry, type LockFile } from '../../models/lock/lock-file.ts';
import type { ModelVariant } from '../../models/model-bundle.ts';
import { findModelVersionSync, isVersionSelected, listModelVersionsSync, type ModelVersion } from '../../models/versions/model-versions.ts';
import type { FunctionDefinition } from '../../spec/function-definition.ts';
import { versionOfEntry } from './fleet-controller.ts';

/** Functions whose model reference pins a version (`model: 'name@version'`) this machine does not hold. */
export class PinnedVersionError extends Error {
  override name = 'PinnedVersionError';
}

/** A function as pins are read from it: its name and the model fields of its definition. */
export interface VersionedFunction {
  name: string;
  definition: Pick<FunctionDefinition, 'model' | 'modelVersion' | 'variant' | 'canary'>;
}

/** What a locked entry is called by a selector: its digest or commit, and its OCI tag or hub revision. */
const describeEntryVersion = (entry: LockEntry) => ({
  digest: versionOfEntry(entry),
  tag: entry.source.type === 'oci' ? entry.source.tag : entry.source.type === 'hub' ? entry.source.revision : undefined,
});

/** What the version store holds of a function's model and variant, for a message naming each version. */
function describeHeldVersions(cacheFolder: string, model: string, variant: ModelVariant): string {
  const held = listModelVersionsSync(cacheFolder, model).filter((version) => version.entry.variant === variant);
  return held.length > 0 ? held.map((version) => `${version.digest}${version.tag ? ` (${version.tag})` : ''}`).join(', ') : 'none';
}

/**
 * The version a pinned function serves (`honnx serve` and `honnx build` both read it here): `locked` when the lock
 * already pins it (served from the folder its name resolves to), the stored version otherwise; a message when
 * neither holds it. Nothing at all for a function without a pin.
 */
export function resolvePinnedVersion(fn: VersionedFunction, lock: LockFile, cacheFolder: string): { locked?: LockEntry; stored?: ModelVersion; problem?: string } {
  const { model, modelVersion: pin, variant = 'fp32' } = fn.definition;
  if (pin === undefined) return {};
  const locked = findLockEntry(lock, model, variant);
  if (locked && isVersionSelected(describeEntryVersion(locked), pin)) return { locked };
  const stored = findModelVersionSync(cacheFolder, model, pin);
  if (stored && stored.entry.variant === variant) return { stored };
  return {
    problem:
      `function ${fn.name} pins model ${model} (${variant}) at version "${pin}", which this machine does not hold: ` +
      `the lock file pins ${locked ? versionOfEntry(locked) : 'no version of it'}, and the version store (${cacheFolder}/.versions) has ` +
      `${describeHeldVersions(cacheFolder, model, variant)}. ` +
      `Pull it (honnx models pull oci://<registry>/<repository>:${pin} --update-lock, or honnx models pull ${model} --revision ${pin}), or change the pin in functions/${fn.name}.ts`,
  };
}

/** A declared canary's version, from the version store, as a pin must be there before anything serves; or a message. */
export function resolveCanaryVersion(fn: VersionedFunction, cacheFolder: string): { stored?: ModelVersion; problem?: string } {
  const { model, canary, variant = 'fp32' } = fn.definition;
  if (canary === undefined) return {};
  const stored = findModelVersionSync(cacheFolder, model, canary.version);
  if (stored && stored.entry.variant === variant) return { stored };
  return {
    problem:
      `function ${fn.name} declares a canary of model ${model} (${variant}) at version "${canary.version}", which this machine does not hold: ` +
      `the version store (${cacheFolder}/.versions) has ${describeHeldVersions(cacheFolder, model, variant)}. ` +
      `Pull it (honnx models pull oci://<registry>/<repository>:${canary.version}, or honnx models pull ${model} --revision ${canary.version}), or change the canary in functions/${fn.name}.ts`,
  };
}
