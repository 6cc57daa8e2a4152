import { existsSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { formatBytes } from '../models/format-units.ts';
import { DEFAULT_TIMEOUT_MS } from '../models/hub/hub-client.ts';
import { createProgressReporter } from '../models/hub/progress.ts';
import { inspectModel } from '../models/inspect/inspect-model.ts';
import { describeSource, readLockFile, type LockEntry } from '../models/lock/lock-file.ts';
import type { ModelVariant } from '../models/model-bundle.ts';
import { isModelVariant, MODEL_VARIANTS } from '../models/model-file-selection.ts';
import { checkDigestSignature, fetchSignature, generateSigningKeys, keyIdOf, pushSignature, readPublicKey, readSigningKey } from '../models/oci/model-signature.ts';
import { formatOciReference, parseOciReference, type OciReference } from '../models/oci/oci-reference.ts';
import { pullOciModel, type OciPullResult } from '../models/oci/pull-oci-model.ts';
import { pushModel } from '../models/oci/push-model.ts';
import { readDockerCredentials } from '../models/oci/docker-config.ts';
import type { RegistryCredentials } from '../models/oci/registry-auth.ts';
import { createRegistryClient, type RegistryClient } from '../models/oci/registry-client.ts';
import { resolveModel, type ModelSearchPaths } from '../models/resolve-model.ts';

export const REGISTRY_USAGE =
  '  honnx models push MODEL REGISTRY/REPOSITORY:TAG [--variant V] [--task T] [--sign-key FILE] [--plain-http]\n' +
  '                                                     push a model as an OCI artifact, one layer per file\n' +
  '  honnx models pull oci://REGISTRY/REPOSITORY:TAG|@DIGEST [--name N] [--public-key FILE] [--plain-http] [--no-lock] [--update-lock]\n' +
  '                                                     pull it (HONNX_REGISTRY_USERNAME/PASSWORD, HONNX_REGISTRY_TOKEN or ~/.docker/config.json);\n' +
  '                                                     a tag now naming another digest than the lock pins needs --update-lock\n' +
  '  honnx models keygen PREFIX                         an ed25519 key pair for signing models: PREFIX.key, PREFIX.pub';

export interface RegistryProject {
  root: string;
  searchPaths: ModelSearchPaths;
  lockPath: string;
}

/** A mistake on the command line: printed as is, exit status 2. */
export class RegistryUsageError extends Error {}

/**
 * Credentials from the environment, never from the command line (where `ps` and shell history would show them);
 * without them, what Docker's config holds for the registry (`docker login`: DOCKER_CONFIG or ~/.docker/config.json).
 */
export function readRegistryCredentials(registry: string, environment: NodeJS.ProcessEnv = process.env): RegistryCredentials | undefined {
  if (environment.HONNX_REGISTRY_TOKEN) return { token: environment.HONNX_REGISTRY_TOKEN };
  if (environment.HONNX_REGISTRY_USERNAME) return { username: environment.HONNX_REGISTRY_USERNAME, password: environment.HONNX_REGISTRY_PASSWORD ?? '' };
  return readDockerCredentials(registry, environment);
}

function readTimeout(value: string | undefined): number {
  const timeoutMs = value === undefined ? Number(process.env.HONNX_HTTP_TIMEOUT ?? DEFAULT_TIMEOUT_MS / 1000) * 1000 : Number(value) * 1000;
  if (!(timeoutMs > 0)) throw new RegistryUsageError('--timeout is a number of seconds');
  return timeoutMs;
}

export function openRegistry(reference: OciReference, options: { plainHttp?: boolean; timeoutMs: number; signal?: AbortSignal }): RegistryClient {
  return createRegistryClient({ registry: reference.registry, plainHttp: options.plainHttp, credentials: readRegistryCredentials(reference.registry), timeoutMs: options.timeoutMs, signal: options.signal });
}

const display = (root: string, path: string) => relative(root, path).split(sep).join('/') || '.';

/** `honnx models push MODEL REGISTRY/REPOSITORY:TAG`. */
export async function pushCommand(args: string[], project: RegistryProject): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { variant: { type: 'string' }, task: { type: 'string' }, 'sign-key': { type: 'string' }, 'plain-http': { type: 'boolean' }, timeout: { type: 'string' } },
  });
  if (positionals.length !== 2) throw new RegistryUsageError('honnx models push takes a model (a name or a folder) and a reference: MODEL REGISTRY/REPOSITORY:TAG');
  const [model, target] = positionals;
  const reference = parseOciReference(target);
  if (values.variant !== undefined && !isModelVariant(values.variant)) throw new RegistryUsageError(`honnx models push: --variant is one of ${MODEL_VARIANTS.join(', ')}`);
  const lock = await readLockFile(project.lockPath);
  const isFolder = existsSync(model);
  const name = isFolder ? (model.replace(/\/+$/, '').split('/').at(-1) ?? model) : model;
  const folder = isFolder ? model : resolveModel(model, project.searchPaths).folder;
  const locked = lock.models.find((entry) => entry.name === name && (values.variant === undefined || entry.variant === values.variant));
  const variant: ModelVariant = (values.variant as ModelVariant | undefined) ?? locked?.variant ?? 'fp32';
  const task = values.task ?? (await inspectModel(folder).then((inspection) => inspection.task.task, () => undefined));
  const signingKey = values['sign-key'] ?? process.env.HONNX_SIGNING_KEY;
  const key = signingKey ? await readSigningKey(signingKey) : undefined;
  const client = openRegistry(reference, { plainHttp: values['plain-http'], timeoutMs: readTimeout(values.timeout) });
  const result = await pushModel({
    folder,
    name,
    variant,
    task,
    source: locked ? describeSource(locked.source) : undefined,
    reference,
    client,
    onLayer: (layer) => console.log(`  ${layer.uploaded ? 'pushed' : 'exists'}  ${layer.path} (${formatBytes(layer.size)})`),
  });
  if (locked) {
    const differ = locked.files.some((file) => !result.entry.files.some((pushed) => pushed.path === file.path && pushed.sha256 === file.sha256));
    if (differ) console.error(`! the files pushed differ from the lock entry of ${name} (${variant}): run honnx models verify ${name}`);
  }
  console.log(`pushed ${name} (${variant}${task ? `, ${task}` : ''}) to ${formatOciReference(reference)}: ${formatBytes(result.uploadedBytes)} sent, ${result.skippedLayers} layer(s) already there`);
  console.log(`digest ${result.digest}`);
  if (key) {
    await pushSignature(client, reference.repository, { digest: result.digest, size: result.size }, key);
    console.log(`signed with key ${keyIdOf(key)} (${reference.registry}/${reference.repository}:${result.digest.replace(':', '-')}.sig)`);
  }
  return 0;
}

interface PullFlags {
  plainHttp?: boolean;
  timeoutMs: number;
  publicKey?: string;
  retries?: number;
  signal?: AbortSignal;
}

/** Pulls one OCI model; with a public key configured, an artifact without a valid signature by it is refused before any layer is fetched. */
export async function pullFromRegistry(reference: OciReference, project: RegistryProject, flags: PullFlags, extra: { name?: string; lock: boolean; followLock?: boolean; updateLock?: boolean }): Promise<OciPullResult> {
  const client = openRegistry(reference, flags);
  const publicKeyPath = flags.publicKey ?? process.env.HONNX_MODEL_PUBLIC_KEY;
  const publicKey = publicKeyPath ? await readPublicKey(publicKeyPath) : undefined;
  return pullOciModel({
    reference,
    client,
    cacheFolder: project.searchPaths.cache,
    lockPath: extra.lock ? project.lockPath : undefined,
    readOnlyLockPath: extra.lock ? undefined : project.lockPath,
    name: extra.name,
    followLock: extra.followLock,
    updateLock: extra.updateLock,
    reporter: createProgressReporter(),
    retries: flags.retries,
    async checkManifest(fetched) {
      if (!publicKey) return undefined;
      const signature = await fetchSignature(client, reference.repository, fetched.digest);
      checkDigestSignature(fetched.digest, signature, publicKey, formatOciReference(reference));
      return signature;
    },
  });
}

/** `honnx models pull oci://...`. */
export async function pullOciCommand(args: string[], project: RegistryProject, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'public-key': { type: 'string' },
      'plain-http': { type: 'boolean' },
      timeout: { type: 'string' },
      retries: { type: 'string' },
      'no-lock': { type: 'boolean' },
      'update-lock': { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new RegistryUsageError('honnx models pull takes one reference: oci://REGISTRY/REPOSITORY:TAG or @sha256:DIGEST');
  const reference = parseOciReference(positionals[0]);
  const flags = { plainHttp: values['plain-http'], timeoutMs: readTimeout(values.timeout), publicKey: values['public-key'], retries: values.retries === undefined ? undefined : Number(values.retries), signal };
  const result = await pullFromRegistry(reference, project, flags, { name: values.name, lock: !values['no-lock'], updateLock: values['update-lock'] });
  for (const note of result.notes) console.log(note);
  console.log(
    `${result.entry.name} (${result.entry.variant}) → ${display(project.root, result.folder)}, ${formatBytes(result.fetchedBytes)} fetched; manifest ${result.digest}; ` +
      (values['no-lock'] ? 'not locked (--no-lock)' : `locked in ${display(project.root, project.lockPath)}`),
  );
  return 0;
}

/** A locked OCI model, pulled at its locked digest (a box deploying what the repository pins). */
export async function pullLockedOciModel(entry: LockEntry, project: RegistryProject, flags: PullFlags): Promise<OciPullResult> {
  if (entry.source.type !== 'oci') throw new Error(`${entry.name} is not locked from an OCI registry`);
  const { registry, repository, digest } = entry.source;
  return pullFromRegistry({ registry, repository, digest }, project, flags, { name: entry.name, lock: true, followLock: true });
}

/** `honnx models keygen PREFIX`. */
export async function keygenCommand(args: string[]): Promise<number> {
  if (args.length !== 1) throw new RegistryUsageError('honnx models keygen takes a file prefix: honnx models keygen keys/fleet');
  const { privatePath, publicPath, keyId } = await generateSigningKeys(args[0]);
  console.log(`wrote ${privatePath} (keep it secret: it signs models) and ${publicPath} (give it to every box: HONNX_MODEL_PUBLIC_KEY); key ${keyId}`);
  return 0;
}
