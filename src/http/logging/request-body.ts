import type { Context } from 'hono';

/** Enough of a body to debug with, little enough for a log line. */
const LOGGED_BODY_CHARACTERS = 4096;

/**
 * The request body as the handler read it, for `logInputs` only; a body nobody read (refused before reading: 401,
 * 413 by content-length, 415) is not read for the log.
 */
export function readLoggedBody(c: Context): string | undefined {
  const text = c.get('requestBody');
  if (text === undefined) return undefined;
  return text.length > LOGGED_BODY_CHARACTERS ? `${text.slice(0, LOGGED_BODY_CHARACTERS)}…` : text;
}
