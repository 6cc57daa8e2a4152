/**
 * This machine's memory bandwidth as a buffer copy sees it (bytes read plus bytes written per second, the best of
 * six copies of 256 MB). A decode step reads every weight once, so this ÷ the weight bytes read per token is the
 * ceiling on tokens per second that no engine passes.
 */
export function measureCopyBandwidth(): number {
  const size = 256 * 2 ** 20;
  const source = Buffer.alloc(size, 1);
  const target = Buffer.alloc(size);
  source.copy(target);
  let best = 0;
  for (let round = 0; round < 6; round++) {
    const started = performance.now();
    source.copy(target);
    best = Math.max(best, (2 * size) / ((performance.now() - started) / 1000));
  }
  return best;
}
