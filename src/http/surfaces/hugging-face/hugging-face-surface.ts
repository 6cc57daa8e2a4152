import type { FunctionHost } from '../../../serving/function-host.ts';
import { HttpError, sendError } from '../../errors.ts';
import { respondJson } from '../../respond-json.ts';
import type { ApiSurface } from '../api-surface.ts';
import { answerFunctionRequest, describeFunction } from './answer-request.ts';

/**
 * The Hugging Face Inference API shape: each function at its route, `POST` answers `{inputs, parameters, stream}`
 * (JSON, or server-sent events), `GET` says what the function is; other methods get 405.
 */
export function createHuggingFaceSurface(): ApiSurface {
  let routes: { route: string; host: FunctionHost }[] = [];
  return {
    name: 'hugging-face',
    functionAt: (path) => routes.find(({ route }) => path === route || path.startsWith(`${route}/`))?.host,
    describeRoutes: (hosts) => hosts.map((host) => host.route),
    mount(app, { hosts, enter }) {
      routes = hosts.map((host) => ({ route: host.route, host }));
      for (const host of hosts) {
        // Hono's `/route/*` also matches `/route` itself.
        app.use(`${host.route}/*`, async (c, next) => {
          const entered = enter(c, host);
          const refused = entered instanceof Promise ? await entered : entered;
          return refused ?? next();
        });
        app.get(host.route, (c) => respondJson(c, describeFunction(host)));
        app.post(host.route, (c) => answerFunctionRequest(c, host));
        app.all(host.route, (c) => sendError(c, new HttpError(405, 'method_not_allowed', `${host.route} answers GET and POST`, { Allow: 'GET, POST' })));
      }
    },
  };
}
