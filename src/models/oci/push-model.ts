import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { HubError } from '../hub/hub-errors.ts';
import { lockModelFolder } from '../lock/lock-folder.ts';
import type { LockEntry } from '../lock/lock-file.ts';
import type { ModelVariant } from '../model-bundle.ts';
import { buildModelManifest, EMPTY_CONFIG_BYTES, emptyConfigDescriptor, type ModelManifest } from './model-manifest.ts';
import { formatOciReference, type OciReference } from './oci-reference.ts';
import type { RegistryClient } from './registry-client.ts';

export interface PushModelOptions {
  /** The model folder to push: the files a task reads in `variant`, as `honnx models lock` selects them. */
  folder: string;
  name: string;
  variant: ModelVariant;
  task?: string;
  /** Where the model came from, for the `dev.honnx.model.source` annotation. */
  source?: string;
  reference: OciReference;
  client: RegistryClient;
  onLayer?: (layer: { path: string; size: number; uploaded: boolean }) => void;
}

export interface PushResult {
  digest: string;
  manifest: ModelManifest;
  /** The manifest's size in bytes, for a descriptor that points at it. */
  size: number;
  entry: LockEntry;
  uploadedBytes: number;
  /** Layers the registry already held (a new version that shares its tokenizer with the last one). */
  skippedLayers: number;
}

/**
 * `honnx models push`: one layer per model file (so each layer's digest is the file's sha256 in the lock file),
 * an empty config, the honnx artifact type and annotations for name, task, variant and source, then the
 * manifest under the tag. Blobs the registry already holds are not sent again.
 */
export async function pushModel(options: PushModelOptions): Promise<PushResult> {
  const { client, reference } = options;
  if (!reference.tag || reference.digest) throw new HubError('not_found', `push to a tag: ${formatOciReference(reference)} names a digest; write registry/repository:tag`);
  const entry = await lockModelFolder(options.name, options.folder, options.variant, { type: 'folder', path: options.folder });
  const config = emptyConfigDescriptor();
  if (!(await client.hasBlob(reference.repository, config.digest))) await client.uploadBlob(reference.repository, config.digest, config.size, () => EMPTY_CONFIG_BYTES);
  let uploadedBytes = 0;
  let skippedLayers = 0;
  for (const file of entry.files) {
    const digest = `sha256:${file.sha256}`;
    const held = await client.hasBlob(reference.repository, digest);
    if (held) skippedLayers++;
    else {
      await client.uploadBlob(reference.repository, digest, file.size, () => Readable.toWeb(createReadStream(join(options.folder, file.path))) as ReadableStream<Uint8Array>);
      uploadedBytes += file.size;
    }
    options.onLayer?.({ path: file.path, size: file.size, uploaded: !held });
  }
  const manifest = buildModelManifest({ name: options.name, variant: options.variant, task: options.task, source: options.source, files: entry.files });
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  const digest = await client.putManifest(reference.repository, reference.tag, bytes);
  return { digest, manifest, size: bytes.byteLength, entry, uploadedBytes, skippedLayers };
}
