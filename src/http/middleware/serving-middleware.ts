import type { Context, Hono } from 'hono';
import type { FunctionHost } from '../../serving/function-host.ts';
import { findGuard, type AccessPolicy } from '../auth/access-policy.ts';
import type { Logger } from '../logging/logger.ts';
import type { ServingMetrics } from '../metrics/serving-metrics.ts';
import type { ServerSettings } from '../settings/server-settings.ts';
import type { ApiSurface } from '../surfaces/api-surface.ts';
import { createEnterFunction } from '../surfaces/enter-function.ts';
import { allowOrigins } from './allow-origins.ts';
import { drainRequests } from './drain-requests.ts';
import type { RequestDrain } from './request-drain.ts';
import { observeRequests } from './observe-requests.ts';
import { checkApiKey, requireApiKey } from './require-api-key.ts';

export interface ServingMiddlewareOptions {
  hosts: readonly FunctionHost[];
  surfaces: readonly ApiSurface[];
  server?: ServerSettings;
  metrics: ServingMetrics;
  logger: Logger;
  drain?: RequestDrain;
  /** When a request's log line and metrics are recorded (see `observeRequests`); at once when unset. */
  afterAnswer?: (work: () => void) => void;
}

/** The name of the function a path belongs to, as the first surface that can tell from the path says. */
export function createFunctionFinder(surfaces: readonly ApiSurface[]): (path: string) => string | undefined {
  return (path) => {
    for (const surface of surfaces) {
      const host = surface.functionAt?.(path);
      if (host) return host.name;
    }
    return undefined;
  };
}

/**
 * Installs, in this order, what every request goes through before its route: the request log and metrics
 * (outermost, so that they see every answer, 401s and shutdown 503s included), the shutdown drain, then CORS
 * (preflights need no key). Call before any route is added.
 */
export function useServingMiddleware<App extends Hono<any>>(app: App, { hosts, surfaces, server, metrics, logger, drain, afterAnswer }: ServingMiddlewareOptions): void {
  for (const host of hosts) {
    if (host.route === '/metrics') throw new Error(`function ${host.name} cannot use the route /metrics: the server serves its metrics there`);
  }
  metrics.watchHosts(hosts);
  app.use(observeRequests({ logger, metrics, logInputs: server?.logging.inputs ?? false, functionAt: createFunctionFinder(surfaces), afterAnswer }));
  if (drain) app.use(drainRequests(drain));
  if (server?.cors) app.use(allowOrigins(server.cors));
}

/**
 * Mounts the API surfaces, each letting requests into their functions (and checking the function's keys) itself;
 * then guards everything they did not answer with the server's keys. Routes added afterwards are guarded.
 */
export function useSurfaces<App extends Hono<any>>(app: App, hosts: readonly FunctionHost[], surfaces: readonly ApiSurface[], access: AccessPolicy): void {
  const enter = createEnterFunction(access);
  const enterServer = (c: Context) => checkApiKey(c, findGuard(access, c.req.path, undefined));
  for (const surface of surfaces) surface.mount(app, { hosts, enter, enterServer });
  app.use(requireApiKey(access));
}
