import type { Context, MiddlewareHandler } from 'hono';
import { findGuard, type AccessPolicy } from '../auth/access-policy.ts';
import { readBearerToken, type ApiKeySet } from '../auth/api-keys.ts';
import { HttpError, sendError } from '../errors.ts';

const REALM = 'honnx';

/**
 * The 401 (RFC 6750: `WWW-Authenticate: Bearer`) for a request that does not carry one of `guard`'s keys, or
 * undefined when it does (or nothing guards it). The key is never echoed or logged.
 */
export function checkApiKey(c: Context, guard: ApiKeySet | undefined): Response | undefined | Promise<Response | undefined> {
  // An open function answers without waiting for a turn of the microtask queue.
  if (guard === undefined) return undefined;
  return checkPresentedKey(c, guard);
}

async function checkPresentedKey(c: Context, guard: ApiKeySet): Promise<Response | undefined> {
  const presented = readBearerToken(c.req.header('authorization'));
  if (presented === undefined) {
    return sendError(
      c,
      new HttpError(401, 'missing_api_key', `${c.req.path} needs an API key: send "Authorization: Bearer <key>"`, {
        'WWW-Authenticate': `Bearer realm="${REALM}"`,
      }),
    );
  }
  if (!(await guard.matches(presented))) {
    return sendError(
      c,
      new HttpError(401, 'invalid_api_key', `the API key is not valid for ${c.req.path}`, {
        'WWW-Authenticate': `Bearer realm="${REALM}", error="invalid_token"`,
      }),
    );
  }
  return undefined;
}

/**
 * Guards what no API surface let into a function (`/metrics`, the pages, unknown paths) with the server's keys.
 * Runs after CORS, so that preflights pass and browsers can read the 401; installed after the surfaces' routes.
 */
export function requireApiKey(policy: AccessPolicy): MiddlewareHandler {
  return async (c, next) => {
    // A request a surface let into its function had that function's keys checked (`createEnterFunction`).
    if (c.get('functionHost') !== undefined) return next();
    return (await checkApiKey(c, findGuard(policy, c.req.path, c.get('functionName')))) ?? next();
  };
}
