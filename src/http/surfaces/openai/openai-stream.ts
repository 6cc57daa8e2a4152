import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { FunctionHost } from '../../../serving/function-host.ts';
import { reportFunctionError } from '../../errors.ts';
import { formatOpenAiError } from './openai-errors.ts';

/**
 * Sends chunks as OpenAI's server-sent events: one `data: {json}` per chunk, then `data: [DONE]`. An error after the
 * 200 becomes an `error` event with OpenAI's error body (its clients throw it), and the request's log line gets its code.
 */
export function respondOpenAiStream(c: Context, host: FunctionHost, chunks: AsyncIterable<unknown>): Response {
  const requestId = c.get('requestId');
  if (requestId !== undefined) c.header('X-Request-Id', requestId);
  return streamSSE(c, async (stream) => {
    try {
      for await (const chunk of chunks) await stream.writeSSE({ data: JSON.stringify(chunk) });
      await stream.writeSSE({ data: '[DONE]' });
    } catch (error) {
      const httpError = reportFunctionError(host.name, error);
      c.set('errorCode', httpError.code);
      await stream.writeSSE({ event: 'error', data: JSON.stringify(formatOpenAiError(httpError)) });
    }
  });
}

/** OpenAI's ids name the kind of object (`chatcmpl-...`, `cmpl-...`). */
export const createCompletionId = (prefix: string): string => `${prefix}-${crypto.randomUUID().replaceAll('-', '')}`;

export const unixSeconds = (): number => Math.floor(Date.now() / 1000);
