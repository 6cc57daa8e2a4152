/** An error status the API can answer, the name of its reusable response and what it means. */
interface ErrorResponse {
  name: string;
  description: string;
  /** Sent with the status, such as `Retry-After`. */
  headers?: Record<string, string>;
}

/** Every error status honnx answers, each a reusable response in `components.responses`. Bodies are `{error: {code, message}}`. */
export const errorResponses: Record<number, ErrorResponse> = {
  400: {
    name: 'BadRequest',
    description:
      'The request is malformed: invalid_json (not JSON or not UTF-8), invalid_request (not an object, no inputs, an unknown top-level key), ' +
      'invalid_inputs, invalid_parameters (wrong types, unknown parameters), empty_input or invalid_input.',
  },
  401: { name: 'Unauthorized', description: 'An API key is required: send `Authorization: Bearer <key>` with a key this function accepts.' },
  404: { name: 'NotFound', description: 'No function at that path (not_found); the message lists the functions served.' },
  405: { name: 'MethodNotAllowed', description: 'A function answers GET and POST only (method_not_allowed), with `Allow: GET, POST`.', headers: { Allow: 'The methods the path answers.' } },
  413: {
    name: 'PayloadTooLarge',
    description:
      "Over one of the function's limits: body_too_large (body bytes), too_many_inputs (texts in `inputs`), input_too_large " +
      '(tokens in one input, or `max_new_tokens` over the ceiling). Classify can cut long texts with `"truncation": true`.',
  },
  415: { name: 'UnsupportedMediaType', description: 'The body must be sent with `content-type: application/json` (unsupported_media_type).' },
  429: {
    name: 'TooManyRequests',
    description: "The function's queue is full; retry after the seconds `Retry-After` gives.",
    headers: { 'Retry-After': 'Seconds to wait before retrying.' },
  },
  500: { name: 'InternalError', description: 'The server failed while answering (internal_error); the details are in the server log, never in the answer.' },
  503: {
    name: 'ServiceUnavailable',
    description: "The function's model is still loading (model_loading, with `Retry-After`) or failed to load (model_unavailable).",
    headers: { 'Retry-After': 'Seconds to wait before retrying, while the model loads.' },
  },
  504: { name: 'GatewayTimeout', description: "The answer took longer than the function's request time-out; its work was dropped." },
};

/** Statuses `POST /<function>` can answer besides 200; 401 is added where the function needs a key. */
export const INFERENCE_ERROR_STATUSES = [400, 413, 415, 429, 500, 503, 504] as const;

/** An error response's headers as OpenAPI header objects. */
export const toHeaderObjects = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([header, meaning]) => [header, { description: meaning, schema: { type: 'string' } }]));
