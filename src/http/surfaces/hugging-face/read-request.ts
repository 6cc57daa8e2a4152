import type { Context } from 'hono';
import * as z from 'zod/mini';
import { HttpError } from '../../errors.ts';
import { describeIssues } from '../../describe-issues.ts';
import { readJsonBody } from '../../read-json-body.ts';
import type { TaskEndpoint } from '../../../spec/task-endpoint.ts';
import type { FunctionLimits } from '../../../spec/function-limits.ts';

export interface InferenceRequest<Inputs, Parameters> {
  inputs: Inputs;
  parameters: Partial<Parameters>;
  stream: boolean;
}

/** Top-level keys of the Hugging Face Inference API request; `options` (wait_for_model, use_cache) is accepted and has no effect here. */
const requestEnvelope = z.strictObject({
  inputs: z.unknown(),
  parameters: z.optional(z.unknown()),
  stream: z.optional(z.boolean()),
  options: z.optional(z.record(z.string(), z.unknown())),
});

const ENVELOPE_KEYS = new Set(['inputs', 'parameters', 'stream', 'options']);

type Envelope = z.infer<typeof requestEnvelope>;

/**
 * What the envelope schema accepts, checked by hand: nearly every request passes, and a schema parse of the
 * envelope is a noticeable part of a small model's request. A request that fails goes through the schema, which
 * says what is wrong.
 */
function isWellFormedEnvelope(body: object): body is Envelope {
  for (const key in body) if (!ENVELOPE_KEYS.has(key)) return false;
  const { stream, options } = body as Record<string, unknown>;
  return (stream === undefined || typeof stream === 'boolean') && (options === undefined || (typeof options === 'object' && options !== null && !Array.isArray(options)));
}

/** A schema's answer for `{}` never changes, so a request without parameters takes it from here. */
const noParameters = new WeakMap<object, { success: true; data: unknown }>();

function parseParameters(schema: TaskEndpoint<unknown, unknown, unknown>['parametersSchema'], parameters: unknown) {
  if (parameters !== undefined && parameters !== null) return schema.safeParse(parameters);
  let parsed = noParameters.get(schema);
  if (!parsed) {
    const result = schema.safeParse({});
    if (!result.success) return result;
    parsed = { success: true, data: Object.freeze(result.data) };
    noParameters.set(schema, parsed);
  }
  return parsed;
}

/**
 * Reads and validates a Hugging Face inference request: the JSON body (`readJsonBody`), the request envelope, then the
 * task's own `inputs` and `parameters` schemas. Every failure is an HttpError that says what is wrong.
 */
export async function readValidatedRequest<Inputs, Parameters>(
  c: Context,
  endpoint: TaskEndpoint<unknown, Inputs, Parameters>,
  limits: Required<FunctionLimits>,
): Promise<InferenceRequest<Inputs, Parameters>> {
  const body = await readJsonBody(c, limits.maxBodyBytes);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_request', 'request body must be a JSON object like {"inputs": ..., "parameters": {...}}');
  }
  let envelope: Envelope;
  if (isWellFormedEnvelope(body)) envelope = body;
  else {
    const parsed = requestEnvelope.safeParse(body);
    if (!parsed.success) throw new HttpError(400, 'invalid_request', describeIssues(parsed.error, requestEnvelope, body, ''));
    envelope = parsed.data;
  }
  if (!('inputs' in body)) throw new HttpError(400, 'invalid_request', 'request body has no "inputs"');

  const inputs = endpoint.inputsSchema.safeParse(envelope.inputs);
  if (!inputs.success) throw new HttpError(400, 'invalid_inputs', describeIssues(inputs.error, endpoint.inputsSchema, envelope.inputs, 'inputs'));
  if (Array.isArray(inputs.data) && inputs.data.length > limits.maxInputs) {
    throw new HttpError(413, 'too_many_inputs', `inputs: ${inputs.data.length} texts, over this function's limit of ${limits.maxInputs} (limits.maxInputs)`);
  }
  const parameters = parseParameters(endpoint.parametersSchema, envelope.parameters);
  if (!parameters.success) throw new HttpError(400, 'invalid_parameters', describeIssues(parameters.error, endpoint.parametersSchema, envelope.parameters, 'parameters'));
  return { inputs: inputs.data, parameters: parameters.data as Partial<Parameters>, stream: envelope.stream ?? false };
}
