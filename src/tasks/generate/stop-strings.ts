/**
 * Watches generated text for stop strings. Text is released only once it cannot be the start of a stop
 * string, so a streamed answer never shows part of one.
 */
export interface StopStringFilter {
  /** Adds text; returns the part that is safe to show, and whether a stop string has now appeared. */
  push(text: string): { text: string; stopped: boolean };
  /** Releases what was held back (generation ended for another reason). */
  flush(): string;
  /** Everything released so far: the answer, cut just before a stop string if one appeared. */
  readonly text: string;
}

/** Length of the longest end of `text` (after `from`) that begins one of the stop strings. */
function heldBackLength(text: string, from: number, stops: readonly string[]): number {
  let longest = 0;
  for (const stop of stops) {
    for (let length = Math.min(stop.length - 1, text.length - from); length > longest; length--) {
      if (text.endsWith(stop.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

export function createStopStringFilter(stops: readonly string[]): StopStringFilter {
  let text = '';
  let released = 0;
  return {
    push(delta) {
      text += delta;
      // A stop string cannot start in released text: its beginning would have been held back.
      let cut = -1;
      for (const stop of stops) {
        const index = text.indexOf(stop, released);
        if (index !== -1 && (cut === -1 || index < cut)) cut = index;
      }
      if (cut !== -1) {
        const safe = text.slice(released, cut);
        text = text.slice(0, cut);
        released = cut;
        return { text: safe, stopped: true };
      }
      const end = text.length - heldBackLength(text, released, stops);
      const safe = text.slice(released, end);
      released = end;
      return { text: safe, stopped: false };
    },
    flush() {
      const rest = text.slice(released);
      released = text.length;
      return rest;
    },
    get text() {
      return text.slice(0, released);
    },
  };
}
