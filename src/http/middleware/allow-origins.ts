import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { CorsSettings } from '../settings/server-settings.ts';

/**
 * CORS for the configured origins: preflights are answered here, before auth (browsers send them without
 * credentials), and answers expose the headers a browser client needs. Keys travel in `Authorization`, not
 * cookies, so credentials mode stays off and "*" is safe to use with keys.
 */
export function allowOrigins({ origins }: CorsSettings): MiddlewareHandler {
  return cors({
    origin: origins === '*' ? '*' : [...origins],
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id', 'Retry-After', 'Server-Timing', 'WWW-Authenticate'],
    maxAge: 600,
  });
}
