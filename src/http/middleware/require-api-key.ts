import type { MiddlewareHandler } from 'hono';
import { findGuard, type AccessPolicy } from '../auth/access-policy.ts';
import { readBearerToken } from '../auth/api-keys.ts';
import { HttpError, sendError } from '../errors.ts';

const REALM = 'honnx';

/**
 * Answers 401 (RFC 6750: `WWW-Authenticate: Bearer`) when a guarded path comes without one of its keys.
 * Runs after CORS, so that preflights pass and browsers can read the 401. The key is never echoed or logged.
 */
export function requireApiKey(policy: AccessPolicy): MiddlewareHandler {
  return async (c, next) => {
    // observeRequests, the outermost middleware, found the path's function.
    const guard = findGuard(policy, c.req.path, c.get('functionName'));
    if (guard === undefined) return next();
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
    return next();
  };
}
