import type { LogitsProcessor } from './score-row.ts';

/** How a constrained answer ended: whole and checked, or cut short (out of tokens) and not to be used as valid. */
export interface StructuredResult {
  /** The grammar reached the end of a value. */
  complete: boolean;
  /** Complete, parsed by JSON.parse and accepted by a JSON Schema validator. */
  valid: boolean;
  /** The parsed value, when valid. */
  value?: unknown;
  /** Why it is not valid. */
  error?: string;
}

/** The constraint of one generation: a logits processor that masks what a grammar refuses, told each chosen token. */
export interface TokenConstraint extends LogitsProcessor {
  accept(id: number): void;
  /** The value is complete and nothing but its end may follow: generation stops. */
  mustEnd(): boolean;
  /** The text written so far, as the grammar read it. */
  text(): string;
  result(): StructuredResult;
}

/** A compiled grammar (src/tasks/structured/): shared by requests, it starts one constraint per generation. */
export interface ConstraintSource {
  start(endIds: readonly number[]): TokenConstraint;
}
