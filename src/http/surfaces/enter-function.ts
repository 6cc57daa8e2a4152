import type { Context } from 'hono';
import type { FunctionHost, FunctionRequest } from '../../serving/function-host.ts';
import { findGuard, type AccessPolicy } from '../auth/access-policy.ts';
import { checkApiKey } from '../middleware/require-api-key.ts';
import type { EnterFunction } from './api-surface.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The function serving the request, set by its surface once it knows (`EnterFunction`). */
    functionHost: FunctionHost;
    /** The model version that took the request (`FunctionRequest.onVersion`), for the `version` label of its metrics. */
    modelVersion: string | undefined;
  }
}

/**
 * What every surface adds to the request it submits: the client's signal (the request is dropped when it leaves),
 * its id (a canary's split hashes it), where to note the model version that takes it, and where its answer's
 * confidence goes (the log line and `honnx_answer_confidence`; a surface submitting several calls for one request,
 * such as /v1/completions with a list of prompts, gathers them all).
 */
export function describeRequestContext(c: Context): Pick<FunctionRequest, 'signal' | 'requestId' | 'onVersion' | 'onConfidence'> {
  return {
    signal: () => c.req.raw.signal,
    requestId: c.get('requestId'),
    onVersion: (version) => c.set('modelVersion', version),
    onConfidence: (confidence) => {
      const earlier = c.get('answerConfidence');
      c.set(
        'answerConfidence',
        earlier ? { confidences: [...earlier.confidences, ...confidence.confidences], lowConfidence: earlier.lowConfidence || confidence.lowConfidence } : confidence,
      );
    },
  };
}

/** What every surface calls once it knows a request's function: the function's name and host, then its API keys. */
export function createEnterFunction(policy: AccessPolicy): EnterFunction {
  return (c, host) => {
    c.set('functionHost', host);
    c.set('functionName', host.name);
    return checkApiKey(c, findGuard(policy, c.req.path, host.name));
  };
}
