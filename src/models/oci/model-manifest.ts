import { createHash } from 'node:crypto';
import { HubError } from '../hub/hub-errors.ts';
import type { LockedFile } from '../lock/lock-file.ts';
import type { ModelVariant } from '../model-bundle.ts';
import { isModelVariant } from '../model-file-selection.ts';
import { isDigest } from './oci-reference.ts';

/** The media types and annotations of a honnx model artifact, after the OCI image-spec 1.1 artifact guidance as oras applies it. */
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const MODEL_ARTIFACT_TYPE = 'application/vnd.honnx.model.v1';
export const MODEL_LAYER_MEDIA_TYPE = 'application/octet-stream';
export const EMPTY_CONFIG_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
/** The empty JSON object `{}`, the config of an artifact that needs none. */
export const EMPTY_CONFIG_BYTES = new TextEncoder().encode('{}');
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';
export const ANNOTATIONS = {
  name: 'dev.honnx.model.name',
  task: 'dev.honnx.model.task',
  variant: 'dev.honnx.model.variant',
  source: 'dev.honnx.model.source',
} as const;

/** Manifests are small; a registry that sends more is refused before the bytes are parsed. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_LAYERS = 1000;
const MAX_ANNOTATION_CHARACTERS = 4096;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  data?: string;
  annotations?: Record<string, string>;
}

export interface ModelManifest {
  schemaVersion: 2;
  mediaType: typeof OCI_MANIFEST_MEDIA_TYPE;
  artifactType: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** What a model manifest says, once every value in it has been checked. */
export interface ModelArtifact {
  name: string;
  variant: ModelVariant;
  task?: string;
  source?: string;
  files: LockedFile[];
}

export const sha256Digest = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export const emptyConfigDescriptor = (): Descriptor => ({
  mediaType: EMPTY_CONFIG_MEDIA_TYPE,
  digest: sha256Digest(EMPTY_CONFIG_BYTES),
  size: EMPTY_CONFIG_BYTES.byteLength,
  data: Buffer.from(EMPTY_CONFIG_BYTES).toString('base64'),
});

/** One layer per file, so that each layer's digest is the file's sha256 in the lock file. */
export function buildModelManifest(artifact: ModelArtifact): ModelManifest {
  const annotations: Record<string, string> = { [ANNOTATIONS.name]: artifact.name, [ANNOTATIONS.variant]: artifact.variant, [TITLE_ANNOTATION]: artifact.name };
  if (artifact.task) annotations[ANNOTATIONS.task] = artifact.task;
  if (artifact.source) annotations[ANNOTATIONS.source] = artifact.source;
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    artifactType: MODEL_ARTIFACT_TYPE,
    config: emptyConfigDescriptor(),
    layers: artifact.files.map((file) => ({ mediaType: MODEL_LAYER_MEDIA_TYPE, digest: `sha256:${file.sha256}`, size: file.size, annotations: { [TITLE_ANNOTATION]: file.path } })),
    annotations,
  };
}

/**
 * A path inside a model folder that cannot leave it or surprise a file system: forward-slash segments of
 * printable characters, none empty, "." or "..", no backslash, no leading slash, no drive letter.
 */
export function isSafeRelativePath(path: unknown): path is string {
  if (typeof path !== 'string' || path.length === 0 || path.length > 1024) return false;
  if (/[\\\u0000-\u001f\u007f:]/.test(path) || path.startsWith('/')) return false;
  return path.split('/').every((segment) => segment.length > 0 && segment.length <= 255 && segment !== '.' && segment !== '..');
}

// The same shape as a hub repository id: a name that is also a folder under the cache.
const MODEL_NAME_PATTERN = /^[\w.-]+(?:\/[\w.-]+)?$/;
export const isModelName = (name: unknown): name is string =>
  typeof name === 'string' && name.length <= 200 && MODEL_NAME_PATTERN.test(name) && name.split('/').every((part) => part !== '.' && part !== '..');

function refuse(where: string, why: string): never {
  throw new HubError('integrity', `the manifest of ${where} is not a honnx model: ${why}`);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function readDescriptor(value: unknown, where: string, what: string): Descriptor {
  if (!isRecord(value)) refuse(where, `${what} is not a descriptor object`);
  if (!isDigest(value.digest)) refuse(where, `${what} has digest ${JSON.stringify(value.digest)}; only sha256:<64 lower-case hex digits> is accepted`);
  if (!Number.isSafeInteger(value.size) || (value.size as number) < 0) refuse(where, `${what} has size ${JSON.stringify(value.size)}; expected a whole number of bytes`);
  if (typeof value.mediaType !== 'string' || value.mediaType.length > 255) refuse(where, `${what} has no media type`);
  const annotations = value.annotations === undefined ? undefined : readAnnotations(value.annotations, where, what);
  return { mediaType: value.mediaType, digest: value.digest, size: value.size as number, annotations };
}

function readAnnotations(value: unknown, where: string, what: string): Record<string, string> {
  if (!isRecord(value)) refuse(where, `the annotations of ${what} are not an object of strings`);
  for (const [key, text] of Object.entries(value)) {
    if (typeof text !== 'string' || text.length > MAX_ANNOTATION_CHARACTERS) refuse(where, `annotation ${JSON.stringify(key.slice(0, 100))} of ${what} is not a string of at most ${MAX_ANNOTATION_CHARACTERS} characters`);
  }
  return value as Record<string, string>;
}

/** Parses manifest bytes, checked already against their digest, into a JSON object (an image manifest or an index). */
export function parseManifestJson(bytes: Uint8Array, where: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    refuse(where, `it is not UTF-8 JSON (${(error as Error).message})`);
  }
  if (!isRecord(parsed)) refuse(where, 'it is not a JSON object');
  return parsed;
}

/**
 * Checks every value of a manifest a registry sent before any of it is used: the artifact type, each layer's
 * digest and size, each file name as a safe relative path (no "..", no absolute path, no duplicate), the variant
 * and the model name.
 */
export function readModelManifest(manifest: Record<string, unknown>, where: string): ModelArtifact {
  if (manifest.schemaVersion !== 2) refuse(where, `schemaVersion is ${JSON.stringify(manifest.schemaVersion)}, not 2`);
  if (manifest.mediaType !== undefined && manifest.mediaType !== OCI_MANIFEST_MEDIA_TYPE) {
    refuse(where, `its media type is ${JSON.stringify(manifest.mediaType)} (an image index or a Docker manifest?); expected ${OCI_MANIFEST_MEDIA_TYPE}`);
  }
  if (manifest.artifactType !== MODEL_ARTIFACT_TYPE) refuse(where, `its artifactType is ${JSON.stringify(manifest.artifactType)}; honnx pushes ${MODEL_ARTIFACT_TYPE}`);
  readDescriptor(manifest.config, where, 'the config');
  const annotations = manifest.annotations === undefined ? {} : readAnnotations(manifest.annotations, where, 'the manifest');
  if (!Array.isArray(manifest.layers) || manifest.layers.length === 0 || manifest.layers.length > MAX_LAYERS) refuse(where, `it has no list of 1 to ${MAX_LAYERS} layers`);
  const seen = new Set<string>();
  const files = manifest.layers.map((value, index) => {
    const layer = readDescriptor(value, where, `layer ${index}`);
    const path = layer.annotations?.[TITLE_ANNOTATION];
    if (!isSafeRelativePath(path)) refuse(where, `layer ${index} has file name ${JSON.stringify(path)}; expected a relative path inside the model folder (no "..", no leading "/")`);
    if (seen.has(path)) refuse(where, `two layers have the file name ${path}`);
    seen.add(path);
    return { path, size: layer.size, sha256: layer.digest.slice('sha256:'.length) };
  });
  const name = annotations[ANNOTATIONS.name];
  if (!isModelName(name)) refuse(where, `annotation ${ANNOTATIONS.name} is ${JSON.stringify(name)}; expected a model name such as sentiment-sst2-mini or org/name`);
  const variant = annotations[ANNOTATIONS.variant] ?? 'fp32';
  if (!isModelVariant(variant)) refuse(where, `annotation ${ANNOTATIONS.variant} is ${JSON.stringify(variant)}, not a known variant`);
  return { name, variant, task: annotations[ANNOTATIONS.task], source: annotations[ANNOTATIONS.source], files };
}
