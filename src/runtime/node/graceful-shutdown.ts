import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { Logger } from '../../http/logging/logger.ts';
import type { RequestDrain } from '../../http/middleware/request-drain.ts';

export interface GracefulShutdownOptions {
  drain: RequestDrain;
  /** How long in-flight requests may still run; then they are answered 503 and streams are ended. */
  timeoutMs: number;
  logger: Logger;
  /** How long, once nothing runs, idle keep-alive connections are left to send a last request before being closed. */
  lingerMs?: number;
}

/** Time for the deadline's 503s and final stream events to reach the sockets before every connection is cut. */
const FLUSH_MILLISECONDS = 1000;
const SWEEP_MILLISECONDS = 50;

/**
 * Stops accepting connections, lets accepted requests finish (each answer then closes its connection), closes
 * idle connections once nothing has run for `lingerMs`, and resolves when every connection has closed. Requests
 * still running at the deadline get a 503 rather than a cut connection; only a client that stops reading its
 * answer is cut, after the deadline and a short flush.
 */
export async function shutDownGracefully(server: Server, { drain, timeoutMs, logger, lingerMs = 500 }: GracefulShutdownOptions): Promise<void> {
  // Connections the kernel completed before the signal are accepted in this turn of the event loop; closing the
  // listener after it, rather than at once, answers them instead of resetting them.
  await new Promise((resolve) => setImmediate(resolve));
  // net.Server's close stops accepting without http.Server's extra step of closing idle keep-alive connections at
  // once, which would race a client sending its next request on one; they are closed below, once quiet.
  const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  drain.begin(timeoutMs);
  const started = performance.now();
  logger.info('shutdown_started', { in_flight: drain.inFlight(), timeout_ms: timeoutMs });
  let forced = false;
  const sweep = setInterval(() => {
    if (drain.inFlight() === 0 && drain.idleMilliseconds() >= lingerMs) server.closeIdleConnections();
    if (!forced && performance.now() - started >= timeoutMs + FLUSH_MILLISECONDS) {
      forced = true;
      logger.warn('shutdown_forced', { in_flight: drain.inFlight() });
      server.closeAllConnections();
    }
  }, SWEEP_MILLISECONDS);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
  }
  logger.info('shutdown_complete', { duration_ms: Math.round(performance.now() - started) });
}
