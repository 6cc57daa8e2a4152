import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { HubError } from '../hub/hub-errors.ts';
import { emptyConfigDescriptor, EMPTY_CONFIG_BYTES, OCI_MANIFEST_MEDIA_TYPE, parseManifestJson } from './model-manifest.ts';
import { isDigest } from './oci-reference.ts';
import type { RegistryClient } from './registry-client.ts';

export const SIGNATURE_ARTIFACT_TYPE = 'application/vnd.honnx.signature.v1';
export const SIGNATURE_ANNOTATION = 'dev.honnx.signature.ed25519';
export const SIGNATURE_KEY_ANNOTATION = 'dev.honnx.signature.key';

/** Where a model's signature lives: a tag derived from the manifest digest, as cosign does, since not every registry has the referrers API. */
export const signatureTag = (digest: string) => `${digest.replace(':', '-')}.sig`;

/** A short, stable name for a public key: the first 16 hex digits of the sha256 of its DER encoding. */
export const keyIdOf = (key: KeyObject) =>
  createHash('sha256')
    .update((key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

export async function readSigningKey(path: string): Promise<KeyObject> {
  const key = createPrivateKey(await readFile(path));
  if (key.asymmetricKeyType !== 'ed25519') throw new HubError('integrity', `${path} is a ${key.asymmetricKeyType} key; model signatures are ed25519 (honnx models keygen makes one)`);
  return key;
}

export async function readPublicKey(path: string): Promise<KeyObject> {
  const key = createPublicKey(await readFile(path));
  if (key.asymmetricKeyType !== 'ed25519') throw new HubError('integrity', `${path} is a ${key.asymmetricKeyType} key; model signatures are ed25519`);
  return key;
}

/** Writes `<prefix>.key` (private, mode 600) and `<prefix>.pub`, both PEM. */
export async function generateSigningKeys(prefix: string): Promise<{ privatePath: string; publicPath: string; keyId: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePath = `${prefix}.key`;
  const publicPath = `${prefix}.pub`;
  await writeFile(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  await writeFile(publicPath, publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx' });
  return { privatePath, publicPath, keyId: keyIdOf(publicKey) };
}

/** The ed25519 signature of a manifest digest (its text, `sha256:<hex>`), base64. */
export const signDigest = (digest: string, key: KeyObject) => sign(null, Buffer.from(digest, 'utf8'), key).toString('base64');

/** Refuses a digest whose signature is missing, malformed, or not made by `publicKey` over exactly this digest. */
export function checkDigestSignature(digest: string, signature: string | undefined, publicKey: KeyObject, where: string): void {
  if (signature === undefined) throw new HubError('integrity', `${where} (${digest}) is not signed, and this box requires models signed by key ${keyIdOf(publicKey)}; refused`);
  const bytes = /^[A-Za-z0-9+/]{86}==$/.test(signature) ? Buffer.from(signature, 'base64') : undefined;
  if (!bytes || bytes.byteLength !== 64 || !verify(null, Buffer.from(digest, 'utf8'), publicKey, bytes)) {
    throw new HubError('integrity', `${where} (${digest}): its signature does not verify with key ${keyIdOf(publicKey)} (tampered, or signed with another key); refused`);
  }
}

/** Pushes the signature of a model manifest as a small artifact whose subject is that manifest, tagged `sha256-<hex>.sig`. */
export async function pushSignature(client: RegistryClient, repository: string, subject: { digest: string; size: number }, key: KeyObject): Promise<string> {
  const config = emptyConfigDescriptor();
  if (!(await client.hasBlob(repository, config.digest))) await client.uploadBlob(repository, config.digest, config.size, () => EMPTY_CONFIG_BYTES);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    artifactType: SIGNATURE_ARTIFACT_TYPE,
    config,
    layers: [config],
    subject: { mediaType: OCI_MANIFEST_MEDIA_TYPE, digest: subject.digest, size: subject.size },
    annotations: { [SIGNATURE_ANNOTATION]: signDigest(subject.digest, key), [SIGNATURE_KEY_ANNOTATION]: keyIdOf(key) },
  };
  return client.putManifest(repository, signatureTag(subject.digest), new TextEncoder().encode(JSON.stringify(manifest)));
}

/** The signature stored for a manifest digest, or undefined when the registry holds none. */
export async function fetchSignature(client: RegistryClient, repository: string, digest: string): Promise<string | undefined> {
  let fetched;
  try {
    fetched = await client.getManifest(repository, signatureTag(digest));
  } catch (error) {
    if (error instanceof HubError && error.kind === 'not_found') return undefined;
    throw error;
  }
  const where = `the signature of ${repository}@${digest}`;
  const manifest = parseManifestJson(fetched.bytes, where) as { artifactType?: unknown; subject?: { digest?: unknown }; annotations?: Record<string, unknown> };
  if (manifest.artifactType !== SIGNATURE_ARTIFACT_TYPE) throw new HubError('integrity', `${where} is not a honnx signature (artifactType ${JSON.stringify(manifest.artifactType)})`);
  if (!isDigest(manifest.subject?.digest) || manifest.subject.digest !== digest) throw new HubError('integrity', `${where} is about another manifest (${String(manifest.subject?.digest).slice(0, 80)}); refused`);
  const signature = manifest.annotations?.[SIGNATURE_ANNOTATION];
  return typeof signature === 'string' ? signature : '';
}

