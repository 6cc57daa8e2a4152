import type { Context } from 'hono';
import { clientClosed } from '../serving/serving-error.ts';
import { reserveBodyBytes } from './body-bytes-in-flight.ts';
import { HttpError } from './errors.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The request body as read, for the request log when it is asked to hold bodies (HONNX_LOG_INPUTS). */
    requestBody: string;
  }
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
  const length = declared === undefined ? Number.NaN : Number(declared);
  if (Number.isFinite(length) && length > maxBodyBytes) throw bodyTooLarge(`${length} bytes`, maxBodyBytes);
  // A body of unknown length may grow to the function's limit: room for that much is taken while it is read.
  const release = reserveBodyBytes(Number.isFinite(length) && length >= 0 ? length : maxBodyBytes);
  try {
    if (declared === undefined) return await readBodyUpTo(c.req.raw.body, maxBodyBytes);
    // The HTTP parser delivers exactly the declared length, so the body is read whole (the fast path).
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength > maxBodyBytes) throw bodyTooLarge(`${bytes.byteLength} bytes`, maxBodyBytes);
    return bytes;
  } catch (error) {
    if (error instanceof HttpError) throw error;
    // Reading a body fails only when its connection does: the client left mid-upload, not a fault of the server.
    throw clientClosed('its request body arrived');
  } finally {
    release();
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
 * Reads a JSON request body within `maxBodyBytes`: JSON content type (415), size (413, refused before it is read
 * whole), UTF-8 and JSON syntax (400); a client that leaves mid-body is `client_closed` (499). Every API surface
 * that takes JSON reads its body here. The text is kept for the request log (`requestBody`).
 */
export async function readJsonBody(c: Context, maxBodyBytes: number): Promise<unknown> {
  const contentType = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new HttpError(415, 'unsupported_media_type', `send the request as JSON with "content-type: application/json" (got "${contentType || 'none'}")`);
  }
  // JSON is UTF-8 (RFC 8259): a body declared in another charset would be misread, so it is refused instead.
  const charset = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType);
  if (charset && !/^utf-?8$/i.test(charset[2])) {
    throw new HttpError(415, 'unsupported_media_type', `send JSON in utf-8 (got charset "${charset[2]}")`);
  }
  const text = await readBodyText(c, maxBodyBytes);
  c.set('requestBody', text);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `request body is not valid JSON: ${(error as Error).message}`);
  }
  return body;
}
