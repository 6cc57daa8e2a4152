import { describe, expect, it } from 'vitest';
import { chooseWindowPerToken, planWindows } from '../../src/tasks/extract/token-windows.ts';

describe('planWindows', () => {
  it('reads a text that fits in one window', () => {
    expect(planWindows(10, 126, 31)).toEqual([{ start: 0, end: 10 }]);
    expect(planWindows(126, 126, 31)).toEqual([{ start: 0, end: 126 }]);
  });

  it('steps by size - stride, overlapping by stride, and ends the last window with the text', () => {
    expect(planWindows(300, 100, 20)).toEqual([
      { start: 0, end: 100 },
      { start: 80, end: 180 },
      { start: 160, end: 260 },
      { start: 200, end: 300 },
    ]);
    expect(planWindows(200, 100, 0)).toEqual([
      { start: 0, end: 100 },
      { start: 100, end: 200 },
    ]);
  });

  it('covers every token, in windows no longer than the size', () => {
    for (const [count, size, stride] of [[1000, 126, 31], [127, 126, 0], [500, 30, 29], [64, 8, 3]]) {
      const windows = planWindows(count, size, stride);
      const seen = new Uint8Array(count);
      for (const { start, end } of windows) {
        expect(end - start).toBeLessThanOrEqual(size);
        seen.fill(1, start, end);
      }
      expect(seen.every((value) => value === 1)).toBe(true);
    }
  });

  it('refuses a stride that leaves no progress', () => {
    expect(() => planWindows(300, 100, 100)).toThrow(RangeError);
    expect(() => planWindows(300, 100, -1)).toThrow(RangeError);
  });
});

describe('chooseWindowPerToken', () => {
  it('takes each token from the window where it is furthest from a cut', () => {
    const windows = planWindows(300, 100, 20); // cuts after 100, 180 and 260, and before 80, 160 and 200
    const chosen = chooseWindowPerToken(windows, 300);
    expect(chosen[0]).toBe(0);
    expect(chosen[85]).toBe(0); // 14 from window 0's end, 5 from window 1's start
    expect(chosen[95]).toBe(1); // 4 from window 0's end, 15 from window 1's start
    expect(chosen[299]).toBe(3); // the text's own end is no cut
    expect([...chosen].every((window, token) => windows[window].start <= token && token < windows[window].end)).toBe(true);
  });
});
