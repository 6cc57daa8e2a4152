import { HubError } from '../hub/hub-errors.ts';

/** `registry/repository:tag` or `registry/repository@sha256:...`, as `oras` and `docker` write references. */
export interface OciReference {
  /** Host, with its port when there is one: `ghcr.io`, `127.0.0.1:5000`. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const OCI_SCHEME = 'oci://';
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

// The distribution spec's grammar: lower-case path components separated by ".", "_", "__" or dashes.
const REPOSITORY_PATTERN = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const REGISTRY_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export const isOciReference = (text: string) => text.startsWith(OCI_SCHEME);

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_PATTERN.test(value);
}

function refuse(text: string, why: string): never {
  throw new HubError('not_found', `"${text}" is not an OCI reference: ${why}; write registry/repository:tag or registry/repository@sha256:<64 hex digits>, for example 127.0.0.1:5000/models/sentiment:v1`);
}

/** Parses a reference, with or without `oci://`; a reference with neither tag nor digest means the tag `latest`. */
export function parseOciReference(text: string): OciReference {
  const bare = isOciReference(text) ? text.slice(OCI_SCHEME.length) : text;
  const slash = bare.indexOf('/');
  if (slash <= 0) refuse(text, 'it names no registry host before the repository');
  const registry = bare.slice(0, slash);
  if (!REGISTRY_PATTERN.test(registry)) refuse(text, `"${registry}" is not a host[:port]`);
  let rest = bare.slice(slash + 1);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) refuse(text, `"${digest}" is not a sha256 digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_PATTERN.test(tag)) refuse(text, `"${tag}" is not a tag (letters, digits, ".", "_", "-"; at most 128)`);
  }
  if (!REPOSITORY_PATTERN.test(rest) || rest.length > 255) refuse(text, `"${rest}" is not a repository name (lower-case components separated by "/")`);
  return { registry, repository: rest, tag: tag ?? (digest ? undefined : 'latest'), digest };
}

/** What a manifest request names: the digest when there is one (it pins the bytes), else the tag. */
export const manifestReference = (reference: OciReference) => reference.digest ?? reference.tag ?? 'latest';

export function formatOciReference(reference: OciReference): string {
  return `${reference.registry}/${reference.repository}${reference.tag ? `:${reference.tag}` : ''}${reference.digest ? `@${reference.digest}` : ''}`;
}
