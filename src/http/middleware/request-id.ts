/** What an incoming `X-Request-Id` may be to be kept: short, and safe to echo in a header and a log line. */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:@\/+=-]{1,128}$/;

/** The caller's request id when it is a plain token (a proxy's or a client's), a fresh UUID otherwise. */
export function readRequestId(header: string | undefined): string {
  return header !== undefined && ACCEPTED_REQUEST_ID.test(header) ? header : crypto.randomUUID();
}
