import type { Context } from 'hono';
import type { FunctionHost } from '../../../serving/function-host.ts';
import { respondJson } from '../../respond-json.ts';
import { findFunctionByModel } from './find-function.ts';
import { RequestFieldError } from './openai-errors.ts';

/** The tasks whose functions answer on the OpenAI routes: chat and completions (generate), embeddings (embed). */
export const OPENAI_TASKS = ['generate', 'embed'];

/** When this server started: OpenAI's `created` of every model it lists, stable across requests. */
const STARTED = Math.floor(Date.now() / 1000);

/** A function as OpenAI's model object, with what honnx knows of it under `honnx`. */
function describeModel(host: FunctionHost) {
  const info = host.modelInfo();
  return {
    id: host.name,
    object: 'model',
    created: STARTED,
    owned_by: 'honnx',
    honnx: {
      task: host.endpoint.task,
      model: host.definition.model,
      variant: info?.variant ?? host.definition.variant ?? 'fp32',
      state: host.state(),
      // The version serving (a digest, a hub commit, "local"), and a canary's, where the server can swap them.
      ...(host.modelVersions ? { version: host.modelVersions() } : {}),
    },
  };
}

export const servedByOpenAiRoutes = (hosts: readonly FunctionHost[]): FunctionHost[] => hosts.filter((host) => OPENAI_TASKS.includes(host.endpoint.task));

/** `GET /v1/models`: every function that answers on the OpenAI routes, by its name. */
export function listModels(c: Context, hosts: readonly FunctionHost[]): Response {
  return respondJson(c, { object: 'list', data: servedByOpenAiRoutes(hosts).map(describeModel) });
}

/** `GET /v1/models/{id}`: one of them, by function name or the model id it serves. */
export function showModel(c: Context, hosts: readonly FunctionHost[], id: string): Response {
  const served = servedByOpenAiRoutes(hosts);
  const host = findFunctionByModel(served, id);
  if (!host) {
    throw new RequestFieldError('model', `no function here serves model "${id}"; models here: ${served.map((candidate) => candidate.name).join(', ') || 'none'}`, 'model_not_found', 404);
  }
  return respondJson(c, describeModel(host));
}
