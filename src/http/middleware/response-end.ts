import { isJsonAnswer } from '../respond-json.ts';

/** How a streamed body ended: fully sent, cut by the client, failed, or ended at the shutdown deadline. */
export type StreamEnd = 'complete' | 'cancelled' | 'failed' | 'deadline';

export interface WatchStreamOptions {
  onEnd(end: StreamEnd): void;
  /** When this settles first, `finalChunk` is sent and the stream ends cleanly instead of being cut. */
  deadline?: Promise<void>;
  finalChunk?: Uint8Array;
}

const DEADLINE: unique symbol = Symbol('deadline');

// The content type is read first: touching `body` turns a plain Node response into a web stream. A JSON answer is
// known without reading its headers, which would turn their plain object into a Headers object.
export const isEventStream = (response: Response) =>
  !isJsonAnswer(response) && /^text\/event-stream/i.test(response.headers.get('content-type') ?? '') && response.body !== null;

/**
 * Adds a listener to a body that `watchStream` made; a listener added after the end hears of it at once. Keyed by
 * the body, not the response: Hono's `c.res = ...` rebuilds the response around the same body stream.
 */
const addListenerTo = new WeakMap<ReadableStream<Uint8Array>, (onEnd: WatchStreamOptions['onEnd']) => void>();

/**
 * The same response, its body passed through so that the end of a stream (not of the handler) is known. A response
 * this already made is watched by one more listener rather than wrapped again: one pass per chunk, and every
 * listener hears the same end (an outer wrapper would hear 'complete' where the inner one cut the stream at the deadline).
 */
export function watchStream(response: Response, { onEnd, deadline, finalChunk }: WatchStreamOptions): Response {
  const addListener = deadline ? undefined : addListenerTo.get(response.body!);
  if (addListener) {
    addListener(onEnd);
    return response;
  }
  const reader = response.body!.getReader();
  const listeners = [onEnd];
  let ended: StreamEnd | undefined;
  const end = (how: StreamEnd) => {
    if (ended) return;
    ended = how;
    for (const listener of listeners) listener(how);
  };
  const passedDeadline = deadline?.then((): typeof DEADLINE => DEADLINE);
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await (passedDeadline ? Promise.race([reader.read(), passedDeadline]) : reader.read());
        if (next === DEADLINE) {
          if (finalChunk) controller.enqueue(finalChunk);
          controller.close();
          end('deadline');
          void reader.cancel('server shutting down').catch(() => undefined);
        } else if (next.done) {
          controller.close();
          end('complete');
        } else {
          controller.enqueue(next.value);
        }
      } catch (error) {
        controller.error(error);
        end('failed');
      }
    },
    cancel(reason) {
      end('cancelled');
      return reader.cancel(reason);
    },
  });
  addListenerTo.set(body, (listener) => (ended ? listener(ended) : listeners.push(listener)));
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
