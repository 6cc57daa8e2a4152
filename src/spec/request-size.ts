/** What one waiting request adds to a run: its rows (texts) and how long they are, in (estimated) tokens. */
export interface RequestSize {
  rows: number;
  /** Tokens of its longest row: what every row of a run is padded to. */
  longest: number;
  /** Tokens of all its rows together. */
  tokens: number;
}
