/** The stdout line a server entry prints once it answers requests; the bench waits for it. */
export const READY_PREFIX = 'BENCH_SERVER_READY ';

export function announceReady(url: string): void {
  console.log(`${READY_PREFIX}${url}`);
}
