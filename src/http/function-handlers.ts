import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { HttpError, sendError, toHttpError } from './errors.ts';
import type { FunctionHost } from '../serving/function-host.ts';
import { readValidatedRequest } from './read-request.ts';
import type { FunctionLimits } from '../spec/function-limits.ts';
import { respondJson } from './respond-json.ts';

/** Seconds a client should wait before retrying while a model loads. */
const LOADING_RETRY_AFTER_SECONDS = 2;

/**
 * Where a model was read from, when that is a binding (`r2:MODELS/x`, `ASSETS:/models/x`); a folder on the server's
 * disk is left out: the model's name says which model it is, and the path is nobody's business outside the server.
 */
function describeLocation(location: string | undefined): { location?: string } {
  if (location === undefined || /^(\/|\\|[A-Za-z]:[\\/])/.test(location)) return {};
  return { location };
}

/**
 * The limits a request meets: the function's, tightened by its loaded model's own (a classifier's 128 tokens under
 * a function's 4096), so that `GET /<function>` and the API reference show the figure a request is refused at.
 */
export function readEffectiveLimits(host: FunctionHost): Required<FunctionLimits> {
  const modelLimits = host.description()?.limits ?? {};
  const limits = { ...host.limits };
  for (const [name, value] of Object.entries(modelLimits) as [keyof FunctionLimits, number | undefined][]) {
    if (value !== undefined) limits[name] = Math.min(limits[name], value);
  }
  return limits;
}

/** What `GET /<function>` answers: task, model, state, limits, serving settings and what the task reports of its model. */
export function describeFunction(host: FunctionHost): Record<string, unknown> {
  const model = host.modelInfo();
  const { limits: _modelLimits, ...described } = host.description() ?? {};
  const { batching, maxQueuedRequests, timeoutMilliseconds } = host.serving;
  return {
    name: host.name,
    route: host.route,
    task: host.endpoint.task,
    description: host.definition.description,
    model: { name: host.definition.model, variant: model?.variant ?? host.definition.variant ?? 'fp32', ...describeLocation(model?.location) },
    engine: model?.engine,
    state: host.state(),
    ...(host.failure() ? { failure: host.failure() } : {}),
    parameters: host.definition.parameters ?? {},
    limits: readEffectiveLimits(host),
    serving: { batching: batching ?? false, max_queued_requests: maxQueuedRequests, timeout_ms: timeoutMilliseconds, lanes: host.laneCount },
    ...described,
  };
}

async function waitUntilReady(host: FunctionHost): Promise<void> {
  const state = host.state();
  if (state === 'ready') return;
  if (state === 'failed') throw new HttpError(503, 'model_unavailable', host.failure() ?? 'the model failed to load');
  if (state === 'idle' || host.waitWhileLoading) {
    try {
      await host.load();
      return;
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

/**
 * `POST /<function>`: validate, queue for the function's scheduler (which batches it with others and runs it on a
 * lane), answer JSON or server-sent events. Never lets an error escape.
 */
export async function answerFunctionRequest(c: Context, host: FunctionHost): Promise<Response> {
  try {
    const request = await readValidatedRequest(c, host.endpoint, host.limits);
    await waitUntilReady(host);
    const parameters = { ...host.definition.parameters, ...request.parameters };
    const answer = await host.submit({ inputs: request.inputs, parameters, stream: request.stream }, () => c.req.raw.signal);
    if (!isAsyncIterable(answer)) return respondJson(c, answer);
    const requestId = c.get('requestId');
    if (requestId !== undefined) c.header('X-Request-Id', requestId);
    return streamSSE(c, async (stream) => {
      try {
        for await (const event of answer) await stream.writeSSE({ data: JSON.stringify(event) });
      } catch (error) {
        // The status (200) is sent already: the error is an event, and the request's log line gets its code.
        const { code, message } = reportError(host, error);
        c.set('errorCode', code);
        await stream.writeSSE({ event: 'error', data: JSON.stringify({ error: { code, message } }) });
      }
    });
  } catch (error) {
    return sendError(c, reportError(host, error));
  }
}

/** What the client is told of an error; one the client cannot be told about (a bug, a failed run) goes to stderr. */
function reportError(host: FunctionHost, error: unknown): HttpError {
  const httpError = toHttpError(error);
  if (httpError.status >= 500 && httpError.code === 'internal_error') console.error(`function ${host.name}:`, error);
  return httpError;
}
