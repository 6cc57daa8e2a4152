import { Hono } from 'hono';
import type { FunctionEnv, HonnxFunction } from './define-function.ts';
import { HttpError, sendError } from './errors.ts';
import type { FunctionHost } from './function-host.ts';

export interface HonnxAppOptions {
  /** Each function with the host that serves its model, in mount order. */
  functions: readonly { fn: HonnxFunction; host: FunctionHost }[];
}

/**
 * The HTTP app every runtime serves: each function at its route, liveness and readiness probes, and JSON
 * errors for everything that is not a function.
 */
export function createHonnxApp({ functions }: HonnxAppOptions): Hono<FunctionEnv> {
  const app = new Hono<FunctionEnv>();
  const hosts = functions.map(({ host }) => host);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const states = Object.fromEntries(hosts.map((host) => [host.name, host.state()]));
    const ready = hosts.every((host) => host.state() === 'ready');
    return c.json({ status: ready ? 'ready' : 'not_ready', functions: states }, ready ? 200 : 503);
  });

  for (const { fn, host } of functions) {
    app.use(`${host.route}/*`, async (c, next) => {
      c.set('functionHost', host);
      await next();
    });
    app.use(host.route, async (c, next) => {
      c.set('functionHost', host);
      await next();
    });
    app.route(host.route, fn);
    app.all(host.route, (c) => sendError(c, new HttpError(405, 'method_not_allowed', `${host.route} answers GET and POST`, { Allow: 'GET, POST' })));
  }

  app.notFound((c) => {
    const routes = hosts.map((host) => host.route).join(', ');
    return sendError(c, new HttpError(404, 'not_found', `no function at ${c.req.path}; functions here: ${routes || 'none'}`));
  });
  app.onError((error, c) => {
    console.error('unhandled error:', error);
    return sendError(c, new HttpError(500, 'internal_error', 'the server failed while answering; the error is in the server log'));
  });
  return app;
}
