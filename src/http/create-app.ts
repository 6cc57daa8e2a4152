import { Hono } from 'hono';
import type { HonnxFunction } from '../spec/define-function.ts';
import { OPEN_ACCESS } from './auth/access-policy.ts';
import type { FunctionEnv } from './function-env.ts';
import { PROMETHEUS_CONTENT_TYPE } from './metrics/prometheus-text.ts';
import type { ApiSurface } from './surfaces/api-surface.ts';
import { createHuggingFaceSurface } from './surfaces/hugging-face/hugging-face-surface.ts';
import { createOpenAiSurface } from './surfaces/openai/openai-surface.ts';
import { HttpError, sendError } from './errors.ts';
import { respondJson } from './respond-json.ts';
import type { FunctionHost } from '../serving/function-host.ts';
import { createLogger, describeError, type Logger } from './logging/logger.ts';
import { createServingMetrics, type ServingMetrics } from './metrics/serving-metrics.ts';
import type { RequestDrain } from './middleware/request-drain.ts';
import { useServingMiddleware, useSurfaces } from './middleware/serving-middleware.ts';
import type { ServerSettings } from './settings/server-settings.ts';
import type { InterfacePages } from './playground/interface-pages.ts';
import { sendPage } from './playground/send-page.ts';

/** What `createHonnxApp` serves: the functions and their hosts, the API surfaces, the pages, settings, metrics and logs. */
export interface HonnxAppOptions {
  /** Each function with the host that serves its model, in mount order. */
  functions: readonly { fn: HonnxFunction; host: FunctionHost }[];
  /**
   * The API shapes the functions are served in, in mount order: the Hugging Face routes (`POST /<function>`,
   * `GET /<function>`) and the OpenAI ones (`/v1/...`, with text-generation-inference's `/info` and `/health`) when unset.
   */
  surfaces?: readonly ApiSurface[];
  /** Serves `GET /openapi.json`, `/docs` and the `/` playground (`interfacePages`); left out, they add nothing to a bundle. */
  pages?: InterfacePages;
  /** API keys, CORS and logging (`resolveServerSettings`). Unset: everything open, no CORS, only errors logged. */
  server?: ServerSettings;
  /** Request counts and the scheduler's events (`metrics.events`), served at `/metrics`; a fresh set when unset. */
  metrics?: ServingMetrics;
  /** Where request and error lines go; JSON lines on the console at `server.logging.level` when unset. */
  logger?: Logger;
  /** Given by a runtime that shuts down gracefully (Node): tracks in-flight requests, answers them at the deadline. */
  drain?: RequestDrain;
  /** Runs each request's log line and metrics once its answer is on its way (Node: `setImmediate`); at once when unset. */
  afterAnswer?: (work: () => void) => void;
}

/**
 * The HTTP app every runtime serves: the functions through each API surface, liveness and readiness probes, metrics,
 * the pages, and JSON errors for everything else.
 */
export function createHonnxApp({ functions, surfaces = [createHuggingFaceSurface(), createOpenAiSurface()], pages, server, metrics = createServingMetrics(), logger, drain, afterAnswer }: HonnxAppOptions): Hono<FunctionEnv> {
  // Not strict: `/classify/` is `/classify`, as clients that add a slash to a base URL expect.
  const app = new Hono<FunctionEnv>({ strict: false });
  const hosts = functions.map(({ host }) => host);
  const log = logger ?? createLogger({ level: server?.logging.level ?? 'error' });
  useServingMiddleware(app, { hosts, surfaces, server, metrics, logger: log, drain, afterAnswer });

  app.get('/healthz', (c) => respondJson(c, { status: 'ok' }));
  app.get('/readyz', (c) => {
    const states = Object.fromEntries(hosts.map((host) => [host.name, host.state()]));
    // A draining server takes itself out of a load balancer's rotation while it finishes what it accepted.
    if (drain?.draining) return respondJson(c, { status: 'draining', functions: states }, 503);
    const ready = hosts.every((host) => host.state() === 'ready');
    return respondJson(c, { status: ready ? 'ready' : 'not_ready', functions: states }, ready ? 200 : 503);
  });
  // Probes need no key; answered for any other method by the 404 below, they would list the functions to anyone.
  for (const probe of ['/healthz', '/readyz']) {
    app.all(probe, (c) => sendError(c, new HttpError(405, 'method_not_allowed', `${probe} answers GET`, { Allow: 'GET, HEAD' })));
  }

  useSurfaces(app, hosts, surfaces, server?.access ?? OPEN_ACCESS);
  app.get('/metrics', (c) => c.body(metrics.registry.render(), 200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE }));

  if (pages) {
    let apiDocument: object | undefined;
    app.get('/openapi.json', (c) => respondJson(c, (apiDocument ??= pages.describeApi(hosts, { surfaces: surfaces.map((surface) => surface.name) })), 200, { 'X-Content-Type-Options': 'nosniff' }));
    app.get('/docs', (c) => sendPage(c, pages.docsHtml));
    app.get('/', (c) => sendPage(c, pages.playgroundHtml));
  }

  app.notFound((c) => {
    const routes = [...new Set(surfaces.flatMap((surface) => surface.describeRoutes?.(hosts) ?? []))].join(', ');
    return sendError(c, new HttpError(404, 'not_found', `no function at ${c.req.path}; functions here: ${routes || 'none'}`));
  });
  app.onError((error, c) => {
    log.error('unhandled_error', { request_id: c.get('requestId'), path: c.req.path, ...describeError(error) });
    return sendError(c, new HttpError(500, 'internal_error', 'the server failed while answering; the error is in the server log'));
  });
  return app;
}
