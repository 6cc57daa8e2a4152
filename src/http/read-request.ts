import type { Context } from 'hono';
import * as z from 'zod/mini';
import { describeIssues } from './describe-issues.ts';
import { clientClosedRequest, HttpError } from './errors.ts';
import type { TaskEndpoint } from '../spec/task-endpoint.ts';
import type { FunctionLimits } from '../spec/function-limits.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The request body as read, for the request log when it is asked to hold bodies (HONNX_LOG_INPUTS). */
    requestBody: string;
  }
}

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

// A fatal decoder keeps no state between calls, so one serves every request.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const bodyTooLarge = (size: string, maxBodyBytes: number) =>
  new HttpError(413, 'body_too_large', `request body is ${size}, over this function's limit of ${maxBodyBytes} bytes`);

/**
 * A body without a declared length (`Transfer-Encoding: chunked`) is read chunk by chunk and refused as soon as it
 * passes the limit: read whole first, one request could fill the server's memory.
 */
async function readBodyUpTo(body: ReadableStream<Uint8Array> | null, maxBodyBytes: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBodyBytes) {
      void reader.cancel().catch(() => undefined);
      throw bodyTooLarge(`over ${size} bytes`, maxBodyBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

async function readBodyBytes(c: Context, maxBodyBytes: number): Promise<Uint8Array> {
  const declared = c.req.header('content-length');
  try {
    if (declared === undefined) return await readBodyUpTo(c.req.raw.body, maxBodyBytes);
    const length = Number(declared);
    if (Number.isFinite(length) && length > maxBodyBytes) throw bodyTooLarge(`${length} bytes`, maxBodyBytes);
    // The HTTP parser delivers exactly the declared length, so the body is read whole (the fast path).
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > maxBodyBytes) throw bodyTooLarge(`${bytes.byteLength} bytes`, maxBodyBytes);
    return bytes;
  } catch (error) {
    if (error instanceof HttpError) throw error;
    // Reading a body fails only when its connection does: the client left mid-upload, not a fault of the server.
    throw clientClosedRequest('its request body arrived');
  }
}

async function readBodyText(c: Context, maxBodyBytes: number): Promise<string> {
  const bytes = await readBodyBytes(c, maxBodyBytes);
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new HttpError(400, 'invalid_json', 'request body is not valid UTF-8');
  }
}

/**
 * Reads and validates an inference request: JSON content type, body size, the request envelope, then the
 * task's own `inputs` and `parameters` schemas. Every failure is an HttpError that says what is wrong.
 */
export async function readValidatedRequest<Inputs, Parameters>(
  c: Context,
  endpoint: TaskEndpoint<unknown, Inputs, Parameters>,
  limits: Required<FunctionLimits>,
): Promise<InferenceRequest<Inputs, Parameters>> {
  const contentType = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new HttpError(415, 'unsupported_media_type', `send the request as JSON with "content-type: application/json" (got "${contentType || 'none'}")`);
  }
  // JSON is UTF-8 (RFC 8259): a body declared in another charset would be misread, so it is refused instead.
  const charset = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType);
  if (charset && !/^utf-?8$/i.test(charset[2])) {
    throw new HttpError(415, 'unsupported_media_type', `send JSON in utf-8 (got charset "${charset[2]}")`);
  }
  const text = await readBodyText(c, limits.maxBodyBytes);
  c.set('requestBody', text);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `request body is not valid JSON: ${(error as Error).message}`);
  }
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
    throw new HttpError(413, 'too_many_inputs', `request has ${inputs.data.length} inputs, over this function's limit of ${limits.maxInputs}`);
  }
  const parameters = parseParameters(endpoint.parametersSchema, envelope.parameters);
  if (!parameters.success) throw new HttpError(400, 'invalid_parameters', describeIssues(parameters.error, endpoint.parametersSchema, envelope.parameters, 'parameters'));
  return { inputs: inputs.data, parameters: parameters.data as Partial<Parameters>, stream: envelope.stream ?? false };
}
