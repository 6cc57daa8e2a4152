import { HubError } from './hub-errors.ts';

export interface HubRequestOptions {
  token?: string;
  /** A whole Authorization header (Basic or Bearer, for an OCI registry) used instead of `token`; it too goes to the first URL's origin only. */
  authorization?: string;
  /** Longest wait for the response headers, and for each chunk of the body after them. */
  timeoutMs: number;
  headers?: Record<string, string>;
  method?: 'GET' | 'HEAD';
  /** Stops the request from outside (Ctrl-C). */
  signal?: AbortSignal;
}

export interface HubResponse {
  response: Response;
  /** The URL that answered, after redirects. */
  url: string;
  /** Aborts the request; the body stream then fails. */
  abort(reason?: unknown): void;
  /** Restarts the inactivity timer; call it on every body chunk. */
  touch(): void;
  /** Stops the inactivity timer once the body is read. */
  finish(): void;
}

const MAX_REDIRECTS = 10;

/**
 * GET (or HEAD) with the hub's conventions: redirects followed by hand, so that the bearer token goes only to
 * the hub's own origin and never to the storage host a download is redirected to; and a timeout on inactivity
 * (no headers, or no body bytes for `timeoutMs`), so that a slow but steady download of a large file is never cut.
 */
export async function requestFromHub(url: string, options: HubRequestOptions): Promise<HubResponse> {
  if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new HubError('interrupted', 'interrupted');
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeoutError = () => new HubError('timeout', `no data from ${new URL(url).origin} for ${options.timeoutMs / 1000} s (timeout); the server is too slow or stalled`);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(timeoutError()), options.timeoutMs);
  };
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const finish = () => {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  };
  const origin = new URL(url).origin;
  let current = url;
  try {
    for (let redirects = 0; ; redirects++) {
      touch();
      const headers: Record<string, string> = { 'user-agent': 'honnx', ...options.headers };
      const authorization = options.authorization ?? (options.token ? `Bearer ${options.token}` : undefined);
      if (authorization && new URL(current).origin === origin) headers.authorization = authorization;
      let response: Response;
      try {
        response = await fetch(current, { method: options.method ?? 'GET', headers, redirect: 'manual', signal: controller.signal });
      } catch (error) {
        throw toHubError(error, controller.signal, current);
      }
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        if (redirects >= MAX_REDIRECTS) throw new HubError('http', `more than ${MAX_REDIRECTS} redirects from ${url}`);
        current = new URL(location, current).href;
        continue;
      }
      touch();
      return { response, url: current, abort: (reason) => controller.abort(reason), touch, finish };
    }
  } catch (error) {
    finish();
    throw error;
  }
}

/** A fetch or stream failure as a HubError: the timeout's own error, or a network error naming the host. */
export function toHubError(error: unknown, signal: AbortSignal, url: string): Error {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason;
  if (error instanceof HubError) return error;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (error as Error).message;
  return new HubError('network', `connection to ${new URL(url).origin} failed: ${why}`);
}
