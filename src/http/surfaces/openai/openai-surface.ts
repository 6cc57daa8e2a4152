import type { Context } from 'hono';
import type { FunctionHost } from '../../../serving/function-host.ts';
import { reportFunctionError, sendError, toHttpError } from '../../errors.ts';
import type { ApiSurface } from '../api-surface.ts';
import { answerChatCompletion } from './chat-completions.ts';
import { answerEmbeddings } from './embeddings.ts';
import { listModels, showModel } from './model-list.ts';
import { formatOpenAiError } from './openai-errors.ts';
import { answerCompletion } from './text-completions.ts';
import { answerHealth, answerInfo } from './tgi-routes.ts';

const ROUTES = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/models', '/info', '/health'];

/**
 * The OpenAI API shape (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`, `/v1/models`) and text-generation-inference's
 * `/info` and `/health`, over the same functions' submit as `POST /<function>`. The body's `model` names the
 * function, so each route lets its request in (`enter`) once it has read the body. Errors on `/v1` take OpenAI's
 * shape, whoever answers them (a 401, the 404 of an unknown path).
 */
export function createOpenAiSurface(): ApiSurface {
  return {
    name: 'openai',
    describeRoutes: () => ROUTES,
    mount(app, context) {
      const { hosts, enterServer } = context;
      app.use('/v1/*', (c, next) => {
        c.set('errorBodyFormat', formatOpenAiError);
        return next();
      });
      // Every error becomes its HTTP answer here; one from a function (a failed run) is also reported as that function's.
      const answering = (answer: (c: Context) => Response | Promise<Response>) => async (c: Context) => {
        try {
          return await answer(c);
        } catch (error) {
          const host = hosts.find((candidate: FunctionHost) => candidate.name === c.get('functionName'));
          return sendError(c, host ? reportFunctionError(host.name, error) : toHttpError(error));
        }
      };
      const withServerKeys = (answer: (c: Context) => Response) => answering(async (c) => (await enterServer(c)) ?? answer(c));
      app.post('/v1/chat/completions', answering((c) => answerChatCompletion(c, context)));
      app.post('/v1/completions', answering((c) => answerCompletion(c, context)));
      app.post('/v1/embeddings', answering((c) => answerEmbeddings(c, context)));
      app.get('/v1/models', withServerKeys((c) => listModels(c, hosts)));
      app.get('/v1/models/:id{.+}', withServerKeys((c) => showModel(c, hosts, c.req.param('id') ?? '')));
      // A probe, open as /healthz is; /info names the models, so it needs the server's keys as /v1/models does.
      app.get('/health', answering((c) => answerHealth(c, hosts)));
      app.get('/info', withServerKeys((c) => answerInfo(c, hosts)));
    },
  };
}
