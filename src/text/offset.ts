/** Where a token came from: [start, end) in the text, as JavaScript string indices. */
export type Offset = readonly [start: number, end: number];
