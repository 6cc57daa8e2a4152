import type { Hono } from 'hono';
import { OPEN_ACCESS } from '../auth/access-policy.ts';
import type { FunctionHost } from '../../serving/function-host.ts';
import type { Logger } from '../logging/logger.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/prometheus-text.ts';
import type { ServingMetrics } from '../metrics/serving-metrics.ts';
import type { ServerSettings } from '../settings/server-settings.ts';
import { allowOrigins } from './allow-origins.ts';
import { drainRequests } from './drain-requests.ts';
import type { RequestDrain } from './request-drain.ts';
import { observeRequests } from './observe-requests.ts';
import { requireApiKey } from './require-api-key.ts';

export interface ServingMiddlewareOptions {
  hosts: readonly FunctionHost[];
  server?: ServerSettings;
  metrics: ServingMetrics;
  logger: Logger;
  drain?: RequestDrain;
  /** When a request's log line and metrics are recorded (see `observeRequests`); at once when unset. */
  afterAnswer?: (work: () => void) => void;
}

/** The name of the function whose route a path is under. */
export function createFunctionFinder(hosts: readonly FunctionHost[]): (path: string) => string | undefined {
  return (path) => hosts.find((host) => path === host.route || path.startsWith(`${host.route}/`))?.name;
}

/**
 * Installs, in this order, what every request goes through before its route: the request log and metrics
 * (outermost, so that they see every answer, 401s and shutdown 503s included), the shutdown drain, CORS
 * (preflights need no key), then API keys. Also serves `GET /metrics`. Call before any route is added.
 */
export function useServingMiddleware<App extends Hono<any>>(app: App, { hosts, server, metrics, logger, drain, afterAnswer }: ServingMiddlewareOptions): void {
  for (const host of hosts) {
    if (host.route === '/metrics') throw new Error(`function ${host.name} cannot use the route /metrics: the server serves its metrics there`);
  }
  const functionAt = createFunctionFinder(hosts);
  metrics.watchHosts(hosts);
  app.use(observeRequests({ logger, metrics, logInputs: server?.logging.inputs ?? false, functionAt, afterAnswer }));
  if (drain) app.use(drainRequests(drain));
  if (server?.cors) app.use(allowOrigins(server.cors));
  app.use(requireApiKey(server?.access ?? OPEN_ACCESS));
  app.get('/metrics', (c) => c.body(metrics.registry.render(), 200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE }));
}
