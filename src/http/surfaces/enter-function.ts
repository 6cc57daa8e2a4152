import type { FunctionHost } from '../../serving/function-host.ts';
import { findGuard, type AccessPolicy } from '../auth/access-policy.ts';
import { checkApiKey } from '../middleware/require-api-key.ts';
import type { EnterFunction } from './api-surface.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The function serving the request, set by its surface once it knows (`EnterFunction`). */
    functionHost: FunctionHost;
  }
}

/** What every surface calls once it knows a request's function: the function's name and host, then its API keys. */
export function createEnterFunction(policy: AccessPolicy): EnterFunction {
  return (c, host) => {
    c.set('functionHost', host);
    c.set('functionName', host.name);
    return checkApiKey(c, findGuard(policy, c.req.path, host.name));
  };
}
