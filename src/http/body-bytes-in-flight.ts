import { HttpError } from './errors.ts';

/*
 * The bytes of request bodies being read at once, across every connection this process (or isolate) serves. Each
 * body is capped by its function's maxBodyBytes, but a thousand clients each sending a body slowly held a thousand
 * of them (1 MB each took RSS from 735 MB to 1,540 MB); past this limit a request is refused at once instead.
 */
let limit = Number.POSITIVE_INFINITY;
let reserved = 0;

/** Sets the limit (Node: HONNX_BODY_BYTES_IN_FLIGHT); unlimited until set. */
export function limitBodyBytesInFlight(bytes: number): void {
  limit = bytes;
}

/** Bytes reserved now by bodies being read: what a test waits on to know the bodies it sent are being read. */
export function readBodyBytesInFlight(): number {
  return reserved;
}

/**
 * Reserves room for a body of up to `bytes` before it is read, or throws 503 `server_busy` when the bodies being read
 * already hold the limit. Returns the release, to call once the body is read (or its reading failed).
 */
export function reserveBodyBytes(bytes: number): () => void {
  if (reserved > 0 && reserved + bytes > limit) {
    throw new HttpError(503, 'server_busy', `request bodies being received hold ${reserved} bytes; this server reads at most ${limit} at once (HONNX_BODY_BYTES_IN_FLIGHT): retry`, {
      'Retry-After': '1',
    });
  }
  reserved += bytes;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    reserved -= bytes;
  };
}
