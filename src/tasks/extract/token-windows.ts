/**
 * Texts longer than the model's positions are read in overlapping windows of tokens. Every token is then labelled
 * from the one window where it sits furthest from a cut, so a token near the end of one window takes its label from
 * the next, where it has context on both sides. Aggregation runs afterwards over the whole text's tokens, so an
 * entity that straddles a cut is found whole, once.
 */

/** Tokens [start, end) of the text, without the special tokens around them. */
export interface TokenWindow {
  start: number;
  end: number;
}

/** Windows of `size` tokens, each starting `size - stride` after the previous; the last one ends with the text. */
export function planWindows(tokenCount: number, size: number, stride: number): TokenWindow[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`window size must be a positive integer, got ${size}`);
  if (!Number.isInteger(stride) || stride < 0 || stride >= size) throw new RangeError(`stride must be an integer in [0, ${size}), got ${stride}`);
  if (tokenCount <= size) return [{ start: 0, end: tokenCount }];
  const step = size - stride;
  const windows: TokenWindow[] = [];
  for (let start = 0; ; start += step) {
    if (start + size >= tokenCount) {
      windows.push({ start: tokenCount - size, end: tokenCount });
      return windows;
    }
    windows.push({ start, end: start + size });
  }
}

/**
 * For each token, the index of the window that gives it the most context: the largest distance to a cut. The
 * start and end of the text are not cuts, so the first window is best for the text's first tokens.
 */
export function chooseWindowPerToken(windows: readonly TokenWindow[], tokenCount: number): Int32Array {
  const chosen = new Int32Array(tokenCount).fill(-1);
  const context = new Float64Array(tokenCount).fill(-1);
  windows.forEach((window, windowIndex) => {
    for (let token = window.start; token < window.end; token++) {
      const before = window.start === 0 ? Infinity : token - window.start;
      const after = window.end === tokenCount ? Infinity : window.end - 1 - token;
      const room = Math.min(before, after);
      if (room > context[token]) {
        context[token] = room;
        chosen[token] = windowIndex;
      }
    }
  });
  return chosen;
}
