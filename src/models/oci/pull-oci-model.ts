import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HubClient, RepositoryListing } from '../hub/hub-client.ts';
import { HubError } from '../hub/hub-errors.ts';
import type { PullReporter } from '../hub/progress.ts';
import { pullModel, type PullResult } from '../pull-model.ts';
import { isModelName, parseManifestJson, readModelManifest, type ModelArtifact } from './model-manifest.ts';
import { formatOciReference, manifestReference, type OciReference } from './oci-reference.ts';
import type { FetchedManifest, RegistryClient } from './registry-client.ts';

/** The manifest a pulled model came from, kept beside its files (dot-files are never locked or served), so that a signature can be checked again offline. */
export const MANIFEST_FILE_NAME = '.oci-manifest.json';

export interface PullOciModelOptions {
  reference: OciReference;
  client: RegistryClient;
  cacheFolder: string;
  lockPath?: string;
  /** A pull without locking: the lock file it never writes, nor replaces the files of (PullModelOptions.readOnlyLockPath). */
  readOnlyLockPath?: string;
  /** The name functions use; the name it was pushed under (its `dev.honnx.model.name` annotation) by default. */
  name?: string;
  /** Follow the lock entry of this model instead of writing a new one (a deployment pulling what the repository pins). */
  followLock?: boolean;
  /** Replace the digest the lock pins for this model when the reference now names another manifest (`--update-lock`). */
  updateLock?: boolean;
  reporter?: PullReporter;
  retries?: number;
  /**
   * Called with the manifest before any layer is fetched: the place to refuse an unsigned or tampered artifact.
   * The signature it returns is recorded in the lock entry, so the server can check it again before activating.
   */
  checkManifest?: (manifest: FetchedManifest, artifact: ModelArtifact) => Promise<string | undefined>;
}

export interface OciPullResult extends PullResult {
  digest: string;
  artifact: ModelArtifact;
}

/**
 * Presents one OCI artifact to the hub pull (`pullModel`) as a repository listing whose "commit" is the manifest
 * digest and whose files are the layers, so that the pull's part files, Range resumes, sha256 checks, atomic
 * install and lock entry are the same code for both sources.
 */
function presentAsRepository(client: RegistryClient, reference: OciReference, fetched: FetchedManifest, artifact: ModelArtifact, name: string): HubClient {
  const layers = new Map(artifact.files.map((file) => [file.path, file]));
  const blobUrl = (path: string) => `${client.baseUrl}/v2/${reference.repository}/blobs/sha256:${layers.get(path)?.sha256 ?? ''}`;
  return {
    endpoint: `oci://${reference.registry}/${reference.repository}`,
    tokenSent: client.credentialsSent,
    async listRepository(_repo, revision): Promise<RepositoryListing> {
      if (revision !== fetched.digest) throw new HubError('integrity', `${formatOciReference(reference)}: the lock pins ${revision}, the registry sent ${fetched.digest}`);
      return { repo: name, revision, commit: fetched.digest, files: artifact.files.map((file) => ({ ...file })) };
    },
    fileUrl: (_repo, _revision, path) => blobUrl(path),
    async openFile(_repo, _revision, path, start = 0) {
      const layer = layers.get(path);
      if (!layer) throw new HubError('not_found', `${path} is not a layer of ${formatOciReference(reference)}`);
      return client.openBlob(reference.repository, `sha256:${layer.sha256}`, start, layer.size);
    },
  };
}

/**
 * `honnx models pull oci://registry/repository:tag|@digest`: reads and checks the manifest (every digest, size
 * and file name), lets `checkManifest` refuse it, then fetches each layer as a model file into the cache and
 * records the manifest digest in the lock entry.
 */
export async function pullOciModel(options: PullOciModelOptions): Promise<OciPullResult> {
  const { reference, client } = options;
  const where = formatOciReference(reference);
  const fetched = await client.getManifest(reference.repository, manifestReference(reference));
  const artifact = readModelManifest(parseManifestJson(fetched.bytes, where), where);
  const name = options.name ?? artifact.name;
  if (!isModelName(name)) throw new HubError('not_found', `"${name}" is not a model name (letters, digits, ".", "_", "-", one "/" at most)`);
  const signature = await options.checkManifest?.(fetched, artifact);
  const result = await pullModel({
    repo: name,
    revision: options.followLock ? undefined : fetched.digest,
    variant: artifact.variant,
    cacheFolder: options.cacheFolder,
    lockPath: options.lockPath,
    readOnlyLockPath: options.readOnlyLockPath,
    client: presentAsRepository(client, reference, fetched, artifact, name),
    reporter: options.reporter,
    retries: options.retries,
    replaceLockedCommit: options.updateLock,
    revisionLabel: where,
    sourceOf: () => ({ type: 'oci', registry: reference.registry, repository: reference.repository, ...(reference.tag ? { tag: reference.tag } : {}), digest: fetched.digest, ...(signature ? { signature } : {}) }),
  });
  await writeFile(join(result.folder, MANIFEST_FILE_NAME), fetched.bytes);
  return { ...result, digest: fetched.digest, artifact };
}
