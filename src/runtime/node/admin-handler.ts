import { readBearerToken, type ApiKeySet } from '../../http/auth/api-keys.ts';
import { SwapRefusedError } from '../../serving/swappable-host.ts';
import { UnknownVersionError, type FleetController } from './fleet-controller.ts';

export const ADMIN_PREFIX = '/admin/';
const MAX_ADMIN_BODY_BYTES = 4096;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const error = (status: number, code: string, message: string, extra: Record<string, unknown> = {}) => json(status, { error: { code, message, ...extra } });

/**
 * The admin endpoints, behind keys of their own (HONNX_ADMIN_KEYS), never the API keys clients hold:
 * `GET /admin/functions`, `POST /admin/functions/<name>/activate {"version"}`, `.../rollback`, `.../canary {"version",
 * "percent"}`, `.../promote` and `.../abort`.
 * Without admin keys they do not exist (404), so a server is never open to swaps by accident.
 */
export function createAdminHandler(fleet: FleetController, keys: ApiKeySet | undefined) {
  return async (request: Request): Promise<Response> => {
    if (!keys) return error(404, 'not_found', 'no admin endpoint: set HONNX_ADMIN_KEYS to enable it');
    const presented = readBearerToken(request.headers.get('authorization') ?? undefined);
    if (!presented || !(await keys.matches(presented))) {
      return json(401, { error: { code: 'unauthorized', message: 'an admin key is needed: Authorization: Bearer <one of HONNX_ADMIN_KEYS>' } }, { 'www-authenticate': 'Bearer' });
    }
    const path = new URL(request.url).pathname;
    if (path === '/admin/functions' && request.method === 'GET') return json(200, fleet.describe());
    const match = /^\/admin\/functions\/([\w.-]+)\/(activate|rollback|canary|promote|abort)$/.exec(path);
    if (!match) return error(404, 'not_found', `no admin endpoint at ${path.slice(0, 200)}`);
    if (request.method !== 'POST') return error(405, 'method_not_allowed', `${match[2]} takes POST`);
    const [, functionName, action] = match;
    try {
      if (action === 'rollback') return json(200, await fleet.rollback(functionName));
      if (action === 'promote') return json(200, fleet.promote(functionName));
      if (action === 'abort') return json(200, fleet.abort(functionName));
      const text = await request.text();
      if (text.length > MAX_ADMIN_BODY_BYTES) return error(413, 'payload_too_large', `the body is at most ${MAX_ADMIN_BODY_BYTES} bytes`);
      const shape = action === 'canary' ? '{"version": "<tag, digest or revision>", "percent": <0 to 100>}' : '{"version": "<tag, digest or revision>"}';
      let body: { version?: unknown; percent?: unknown };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        return error(400, 'invalid_json', `the body is JSON: ${shape}`);
      }
      if (typeof body?.version !== 'string' || body.version.length === 0 || body.version.length > 200) {
        return error(400, 'invalid_version', 'field "version" is a tag, a sha256 digest or a hub revision (a string of 1 to 200 characters)');
      }
      if (action === 'activate') return json(200, await fleet.activate(functionName, body.version));
      if (typeof body.percent !== 'number' || !(body.percent >= 0 && body.percent <= 100)) {
        return error(400, 'invalid_percent', 'field "percent" is the share of requests the canary takes: a number from 0 to 100');
      }
      return json(200, await fleet.canary(functionName, body.version, body.percent));
    } catch (failure) {
      if (failure instanceof UnknownVersionError) return error(404, 'unknown_version', failure.message);
      if (failure instanceof SwapRefusedError) {
        const conflict = failure.reason === 'busy' || failure.reason === 'no_canary';
        return error(conflict ? 409 : 422, `swap_refused_${failure.reason}`, failure.message, failure.evalScore ? { eval: failure.evalScore } : {});
      }
      throw failure;
    }
  };
}
