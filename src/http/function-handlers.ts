import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { HttpError, sendError, toHttpError } from './errors.ts';
import type { FunctionHost } from './function-host.ts';
import { readValidatedRequest } from './read-request.ts';

/** Seconds a client should wait before retrying while a model loads. */
const LOADING_RETRY_AFTER_SECONDS = 2;

/** What `GET /<function>` answers: task, model, state, limits and what the task reports of its model. */
export function describeFunction(host: FunctionHost): Record<string, unknown> {
  const runner = host.runner();
  const model = host.model();
  return {
    name: host.name,
    route: host.route,
    task: host.endpoint.task,
    description: host.definition.description,
    model: { name: host.definition.model, variant: model?.variant ?? host.definition.variant ?? 'fp32', location: model?.files.location },
    engine: model?.engine.name,
    state: host.state(),
    ...(host.failure() ? { failure: host.failure() } : {}),
    parameters: host.definition.parameters ?? {},
    limits: host.limits,
    ...(runner === undefined ? {} : host.endpoint.describe(runner)),
  };
}

async function readyRunner(host: FunctionHost): Promise<unknown> {
  const state = host.state();
  if (state === 'ready') return host.runner();
  if (state === 'failed') throw new HttpError(503, 'model_unavailable', host.failure() ?? 'the model failed to load');
  if (state === 'idle' || host.waitWhileLoading) {
    try {
      return await host.load();
    } catch {
      throw new HttpError(503, 'model_unavailable', host.failure() ?? 'the model failed to load');
    }
  }
  throw new HttpError(503, 'model_loading', `model ${host.definition.model} is still loading; retry shortly`, {
    'Retry-After': String(LOADING_RETRY_AFTER_SECONDS),
  });
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** `POST /<function>`: validate, run the task, answer JSON or server-sent events. Never lets an error escape. */
export async function answerFunctionRequest(c: Context, host: FunctionHost): Promise<Response> {
  try {
    const request = await readValidatedRequest(c, host.endpoint, host.limits);
    const runner = await readyRunner(host);
    const parameters = { ...host.definition.parameters, ...request.parameters };
    const answer = await host.endpoint.answer(runner, request.inputs, {
      parameters,
      limits: host.limits,
      stream: request.stream,
      signal: c.req.raw.signal,
    });
    if (!isAsyncIterable(answer)) return c.json(answer as object);
    return streamSSE(c, async (stream) => {
      try {
        for await (const event of answer) await stream.writeSSE({ data: JSON.stringify(event) });
      } catch (error) {
        const { code, message } = toHttpError(error);
        await stream.writeSSE({ event: 'error', data: JSON.stringify({ error: { code, message } }) });
      }
    });
  } catch (error) {
    const httpError = toHttpError(error);
    if (httpError.status >= 500 && httpError.code === 'internal_error') console.error(`function ${host.name}:`, error);
    return sendError(c, httpError);
  }
}
