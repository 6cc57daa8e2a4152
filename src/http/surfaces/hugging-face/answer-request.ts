import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { isAsyncIterable } from '../../../common/is-async-iterable.ts';
import { reportFunctionError, sendError } from '../../errors.ts';
import { readEffectiveLimits, type FunctionHost } from '../../../serving/function-host.ts';
import { describeRequestContext } from '../enter-function.ts';
import { readValidatedRequest } from './read-request.ts';
import { respondJson } from '../../respond-json.ts';
import { convertZodSchema } from '../../../tasks/structured/zod-json-schema.ts';

/**
 * Where a model was read from, when that is a binding (`r2:MODELS/x`, `ASSETS:/models/x`); a folder on the server's
 * disk is left out: the model's name says which model it is, and the path is nobody's business outside the server.
 */
function describeLocation(location: string | undefined): { location?: string } {
  if (location === undefined || /^(\/|\\|[A-Za-z]:[\\/])/.test(location)) return {};
  return { location };
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
    ...(host.modelVersions ? { version: host.modelVersions() } : {}),
    engine: model?.engine,
    state: host.state(),
    ...(host.failure() ? { failure: host.failure() } : {}),
    parameters: host.definition.parameters ?? {},
    ...(host.definition.schema && { schema: convertZodSchema(host.definition.schema) }),
    limits: readEffectiveLimits(host),
    serving: { batching: batching ?? false, max_queued_requests: maxQueuedRequests, timeout_ms: timeoutMilliseconds, lanes: host.laneCount },
    ...described,
  };
}

/**
 * `POST /<function>`: read and validate the envelope, submit it to the function (whose scheduler batches it with
 * others and runs it on a lane), answer JSON or server-sent events (one `data:` event per stream item, an `error`
 * event if the stream fails after its 200). Never lets an error escape.
 */
export async function answerFunctionRequest(c: Context, host: FunctionHost): Promise<Response> {
  try {
    const request = await readValidatedRequest(c, host.endpoint, host.limits);
    const answer = await host.submit({
      inputs: request.inputs,
      parameters: request.parameters,
      stream: request.stream,
      ...describeRequestContext(c),
    });
    if (!isAsyncIterable(answer)) return respondJson(c, answer);
    const requestId = c.get('requestId');
    if (requestId !== undefined) c.header('X-Request-Id', requestId);
    return streamSSE(c, async (stream) => {
      try {
        for await (const event of answer) await stream.writeSSE({ data: JSON.stringify(event) });
      } catch (error) {
        // The status (200) is sent already: the error is an event, and the request's log line gets its code.
        const { code, message } = reportFunctionError(host.name, error);
        c.set('errorCode', code);
        await stream.writeSSE({ event: 'error', data: JSON.stringify({ error: { code, message } }) });
      }
    });
  } catch (error) {
    return sendError(c, reportFunctionError(host.name, error));
  }
}
