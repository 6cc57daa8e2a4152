import type { Context } from 'hono';
import type { FunctionHost } from '../../../serving/function-host.ts';
import { HttpError } from '../../errors.ts';
import { readJsonBody } from '../../read-json-body.ts';
import type { SurfaceContext } from '../api-surface.ts';
import { RequestFieldError } from './openai-errors.ts';

/** The function a `model` names: a function's name first, else the first function serving a model of that id. */
export function findFunctionByModel(hosts: readonly FunctionHost[], model: string): FunctionHost | undefined {
  return hosts.find((host) => host.name === model) ?? hosts.find((host) => host.definition.model === model);
}

/**
 * A `model` that names no function but means "whatever this server serves": text-generation-inference's clients send
 * `"tgi"`, and @huggingface/inference sends the endpoint's URL when given no model. It picks the route's only function.
 */
const isServerPlaceholder = (model: string): boolean => model === 'tgi' || /^https?:\/\//.test(model);

/** Used before any function is known; no function of the route's tasks means nothing to read anyway. */
const FALLBACK_MAX_BODY_BYTES = 256 << 10;

export type OpenAiRequestRead = { host: FunctionHost; body: Record<string, unknown> } | { refused: Response };

const encoder = new TextEncoder();

/**
 * Reads an OpenAI request body and finds the function its `model` names among those of `tasks`, lets the request into
 * it (its keys, its log line and metrics) and checks its body limit. A request that names no function of this route
 * needs the server's keys, as an unknown path does: its 404 lists the functions.
 */
export async function readOpenAiRequest(c: Context, { hosts, enter, enterServer }: SurfaceContext, tasks: readonly string[], shape: string): Promise<OpenAiRequestRead> {
  const candidates = hosts.filter((host) => tasks.includes(host.endpoint.task));
  const maxBodyBytes = candidates.length === 0 ? FALLBACK_MAX_BODY_BYTES : Math.max(...candidates.map((host) => host.limits.maxBodyBytes));
  const body = await readJsonBody(c, maxBodyBytes);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'invalid_request', `request body must be a JSON object like ${shape}`);
  const model = (body as { model?: unknown }).model;
  let host = typeof model === 'string' ? findFunctionByModel(hosts, model) : undefined;
  if (!host && typeof model === 'string' && isServerPlaceholder(model) && candidates.length === 1) host = candidates[0];
  const refused = await (host ? enter(c, host) : enterServer(c));
  if (refused) return { refused };
  if (typeof model !== 'string') throw new RequestFieldError('model', 'model is required: the name of a function here, or the model id it serves', 'missing_model');
  const served = candidates.map((candidate) => candidate.name).join(', ') || 'none';
  if (!host) throw new RequestFieldError('model', `no function here serves model "${model}"; models here: ${served}`, 'model_not_found', 404);
  if (!tasks.includes(host.endpoint.task)) {
    throw new RequestFieldError('model', `function ${host.name} is a ${host.endpoint.task} function and cannot answer ${c.req.path}; models here: ${served}`, 'model_not_supported');
  }
  // The body was read within the largest limit of the route's functions; this one's may be lower.
  if (host.limits.maxBodyBytes < maxBodyBytes) {
    const size = encoder.encode(c.get('requestBody')).byteLength;
    if (size > host.limits.maxBodyBytes) throw new HttpError(413, 'body_too_large', `request body is ${size} bytes, over function ${host.name}'s limit of ${host.limits.maxBodyBytes} bytes`);
  }
  return { host, body: body as Record<string, unknown> };
}
