import type { Context } from 'hono';
import type { FunctionHost } from '../../../serving/function-host.ts';
import { HttpError } from '../../errors.ts';
import { respondJson } from '../../respond-json.ts';

/** text-generation-inference's `GET /health`: 200 once every generate function is ready to answer, 503 before. */
export function answerHealth(c: Context, hosts: readonly FunctionHost[]): Response {
  const generators = hosts.filter((host) => host.endpoint.task === 'generate');
  const notReady = generators.filter((host) => host.state() !== 'ready');
  if (notReady.length > 0) throw new HttpError(503, 'model_loading', `not ready: ${notReady.map((host) => `${host.name} (${host.state()})`).join(', ')}`);
  return respondJson(c, {});
}

/**
 * text-generation-inference's `GET /info`, which TGI-aware tools read to find the model and its limits. A TGI server
 * serves one model: this describes the first generate function, and lists every one under `honnx_functions`.
 */
export function answerInfo(c: Context, hosts: readonly FunctionHost[]): Response {
  const generators = hosts.filter((host) => host.endpoint.task === 'generate');
  const first = generators[0];
  if (!first) throw new HttpError(404, 'not_found', 'this server has no generate function');
  const description = first.description() ?? {};
  const maxSequence = typeof description.max_sequence_length === 'number' ? description.max_sequence_length : first.limits.maxInputTokens + first.limits.maxNewTokens;
  return respondJson(c, {
    model_id: first.definition.model,
    model_sha: null,
    model_dtype: first.modelInfo()?.variant ?? first.definition.variant ?? 'fp32',
    model_device_type: 'cpu',
    model_pipeline_tag: 'text-generation',
    max_concurrent_requests: first.serving.maxQueuedRequests,
    max_best_of: 1,
    max_stop_sequences: 16,
    max_input_tokens: Math.min(first.limits.maxInputTokens, maxSequence),
    max_total_tokens: maxSequence,
    max_client_batch_size: 1,
    validation_workers: 1,
    router: 'honnx',
    version: '0.1.0',
    honnx_functions: generators.map((host) => ({ name: host.name, route: host.route, model: host.definition.model, state: host.state() })),
  });
}
