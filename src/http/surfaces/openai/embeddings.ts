import type { Context } from 'hono';
import type { EmbedAnswer } from '../../../endpoints/embed-endpoint.ts';
import { respondJson } from '../../respond-json.ts';
import type { SurfaceContext } from '../api-surface.ts';
import { readOpenAiRequest } from './find-function.ts';
import { RequestFieldError } from './openai-errors.ts';
import { embeddingRequestSchema, parseOpenAiRequest } from './openai-requests.ts';
import { submitToFunction } from './submit-to-function.ts';

const EMBED_TASKS = ['embed'];

/** OpenAI's `encoding_format: "base64"`: the vector's float32 bytes, little-endian, in base64. */
function toBase64(vector: readonly number[]): string {
  const bytes = new Uint8Array(Float32Array.from(vector).buffer);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** `POST /v1/embeddings`: the texts' vectors from the embed function `model` names. */
export async function answerEmbeddings(c: Context, surface: SurfaceContext): Promise<Response> {
  const read = await readOpenAiRequest(c, surface, EMBED_TASKS, '{"model": "...", "input": "..."}');
  if ('refused' in read) return read.refused;
  const request = parseOpenAiRequest(embeddingRequestSchema, read.body);
  const input: unknown = request.input;
  const texts = typeof input === 'string' ? [input] : (input as unknown[]);
  texts.forEach((text, index) => {
    if (typeof text !== 'string') throw new RequestFieldError(`input[${index}]`, 'input must be a string or a list of strings; token-id inputs are not supported', 'unsupported_value');
    if (text.trim() === '') throw new RequestFieldError(`input[${index}]`, 'input must not be empty', 'invalid_value');
  });
  if (texts.length > read.host.limits.maxInputs) {
    throw new RequestFieldError('input', `${texts.length} inputs, over function ${read.host.name}'s limit of ${read.host.limits.maxInputs}`, 'too_many_inputs', 413);
  }
  const parameters: Record<string, unknown> = { details: true };
  if (request.dimensions != null) parameters.dimensions = request.dimensions;
  const answer = (await submitToFunction(c, read.host, { inputs: texts, parameters, stream: false })) as Extract<EmbedAnswer, { embeddings: unknown }>;
  const base64 = request.encoding_format === 'base64';
  return respondJson(c, {
    object: 'list',
    data: answer.embeddings.map((vector, index) => ({ object: 'embedding', index, embedding: base64 ? toBase64(vector) : vector })),
    model: request.model,
    usage: { prompt_tokens: answer.prompt_tokens, total_tokens: answer.prompt_tokens },
  });
}
