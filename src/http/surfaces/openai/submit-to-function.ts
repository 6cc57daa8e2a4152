import type { Context } from 'hono';
import type { FunctionHost } from '../../../serving/function-host.ts';
import { describeRequestContext } from '../enter-function.ts';

/** A call as the OpenAI routes make it: the generate (or embed) task's own inputs and parameters. */
export interface OpenAiCall {
  inputs: unknown;
  parameters: Record<string, unknown>;
  stream: boolean;
}

/**
 * The one seam between the OpenAI routes and a function: its transport-free submit (readiness, the function's
 * default parameters, queue, batching, time-out, lanes), exactly as `POST /<function>` goes, stopped when the
 * client leaves.
 */
export function submitToFunction(c: Context, host: FunctionHost, call: OpenAiCall): Promise<unknown> {
  return host.submit({ ...call, ...describeRequestContext(c) });
}
