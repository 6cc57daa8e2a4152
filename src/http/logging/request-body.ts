import type { Context } from 'hono';

/** Enough of a body to debug with, little enough for a log line. */
const LOGGED_BODY_CHARACTERS = 4096;

/**
 * The request body as the handler read it, for `logInputs` only. Hono keeps what a handler read in
 * `bodyCache`; a body nobody read (refused before reading: 401, 413 by content-length, 415) stays unread.
 */
export async function readLoggedBody(c: Context): Promise<string | undefined> {
  const cache = c.req.bodyCache as Record<string, Promise<unknown> | undefined>;
  const [kind, pending] = Object.entries(cache).find(([, value]) => value !== undefined) ?? [];
  if (kind === undefined || pending === undefined) return undefined;
  let text: string;
  try {
    const body = await pending;
    if (body instanceof ArrayBuffer) text = new TextDecoder().decode(body);
    else if (typeof body === 'string') text = body;
    else text = JSON.stringify(body);
  } catch {
    return undefined;
  }
  return text.length > LOGGED_BODY_CHARACTERS ? `${text.slice(0, LOGGED_BODY_CHARACTERS)}…` : text;
}
