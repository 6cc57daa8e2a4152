import type { ApiKeySet } from './api-keys.ts';

/** Who may call what; resolved once from settings and function definitions. */
export interface AccessPolicy {
  /** Keys for the whole server (`HONNX_API_KEYS`, `HONNX_API_KEYS_FILE`); everything is open when unset. */
  server?: ApiKeySet;
  /** A function's own keys, or `open` for `auth: false`; functions not listed follow the server. */
  functions: ReadonlyMap<string, ApiKeySet | 'open'>;
  /** Whether the API description pages (`/`, `/docs`, `/openapi.json`) need the server's keys too. */
  protectDocs: boolean;
}

export const OPEN_ACCESS: AccessPolicy = { server: undefined, functions: new Map(), protectDocs: false };

/** Liveness and readiness: orchestrators probe them without credentials. */
const PROBE_PATHS = new Set(['/healthz', '/readyz']);

/** The API's description: the playground page, the reference page and the OpenAPI document. */
const DOCS_PATHS = new Set(['/', '/docs', '/docs/', '/openapi.json']);

/**
 * The keys guarding a request, or undefined when it is open. Probes are always open; a function follows its
 * own `auth`, else the server's keys; the description pages are open unless `protectDocs`; everything else
 * (`/metrics`, unknown paths, whose 404 lists the functions) needs the server's keys when it has some.
 */
export function findGuard(policy: AccessPolicy, requestPath: string, functionName: string | undefined): ApiKeySet | undefined {
  // Routes are not strict about a trailing slash (`/healthz/` is `/healthz`), so neither are the guards.
  const path = requestPath.length > 1 && requestPath.endsWith('/') ? requestPath.slice(0, -1) : requestPath;
  if (PROBE_PATHS.has(path)) return undefined;
  if (functionName !== undefined) {
    const own = policy.functions.get(functionName);
    if (own === 'open') return undefined;
    return own ?? policy.server;
  }
  if (DOCS_PATHS.has(path) && !policy.protectDocs) return undefined;
  return policy.server;
}
