import type { GrammarNode, NumberBounds } from './json-grammar.ts';

/**
 * The constraint's parser state: a stack of frames, one per JSON value being written, innermost on top. Frames are
 * immutable, so a state can be shared while the token trie is walked from it; a byte that several readings allow
 * (`1` may end a number or go on) gives several stacks.
 */
export interface Frame {
  /** Identifies the frame's state for the mask cache: equal keys accept exactly the same bytes. */
  readonly key: string;
  /** The value may end here; the next byte then belongs to the frame below. */
  readonly canEnd: boolean;
  /** Appends to `out` every stack that reading `byte` in this frame leads to. */
  next(byte: number, parent: Stack, out: Stack[]): void;
}

export interface Stack {
  readonly frame: Frame;
  readonly parent: Stack | null;
  /** The frames' keys, top first, made on demand. */
  key?: string;
}

export function push(frame: Frame, parent: Stack | null): Stack {
  return { frame, parent };
}

export function stackKey(stack: Stack): string {
  if (stack.key === undefined) stack.key = stack.parent ? `${stack.frame.key}|${stackKey(stack.parent)}` : stack.frame.key;
  return stack.key;
}

/** Every stack that `byte` leads to from `stack`: read by its top frame, or by the frames below once the top may end. */
export function advance(stack: Stack, byte: number, out: Stack[]): void {
  for (let current: Stack | null = stack; current; current = current.parent) {
    if (current.parent) current.frame.next(byte, current.parent, out);
    if (!current.frame.canEnd) return;
  }
}

/** The whole document may end here: the top frames may end down to the bottom one, which marks the end. */
export function isAccepting(stack: Stack): boolean {
  for (let current: Stack | null = stack; current; current = current.parent) if (!current.frame.canEnd) return false;
  return true;
}

/** The bottom of every stack: the document is done when the stack is down to it. */
export const END: Frame = { key: 'end', canEnd: true, next() {} };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/** The stacks for starting a value of `node` on `parent` (a choice starts each of its options). */
export function startValue(node: GrammarNode, parent: Stack, out: Stack[]): void {
  switch (node.kind) {
    case 'reference':
      return startValue(node.resolve(), parent, out);
    case 'choice':
      for (const option of node.options) startValue(option, parent, out);
      return;
    case 'literal':
      out.push(push(new LiteralFrame(node, 0, node.texts.length, 0), parent));
      return;
    case 'string':
      out.push(push(new StringFrame(node, -1, 0, 0), parent));
      return;
    case 'number':
      out.push(push(new NumberFrame(node, ''), parent));
      return;
    case 'array':
      out.push(push(new ArrayFrame(node, 'start', 0), parent));
      return;
    case 'object':
      out.push(push(new ObjectFrame(node, 'start', 0), parent));
      return;
    case 'map':
      out.push(push(new MapFrame(node, 'start'), parent));
      return;
  }
}

/** Starts `first` then `second` on `parent`: `second`'s start frames wait below `first`'s. */
function startSequence(first: GrammarNode, second: GrammarNode, parent: Stack, out: Stack[]): void {
  const below: Stack[] = [];
  startValue(second, parent, below);
  for (const stack of below) startValue(first, stack, out);
}

/** One of a sorted list of byte strings (enum values, `true`, a key with its colon), `position` bytes in. */
class LiteralFrame implements Frame {
  private madeKey: string | undefined;
  readonly canEnd: boolean;
  constructor(
    private readonly node: Extract<GrammarNode, { kind: 'literal' }>,
    private readonly low: number,
    private readonly high: number,
    private readonly position: number,
  ) {
    this.canEnd = position > 0 && node.texts[low].length === position;
  }
  // Made on demand: a trie walk makes frames by the thousand and reads few of their keys.
  get key(): string {
    return (this.madeKey ??= `L${this.node.id}:${this.low}:${this.high}:${this.position}`);
  }
  next(byte: number, parent: Stack, out: Stack[]): void {
    const { texts } = this.node;
    let low = this.low;
    while (low < this.high && (texts[low].length <= this.position || texts[low][this.position] < byte)) low++;
    let high = low;
    while (high < this.high && texts[high].length > this.position && texts[high][this.position] === byte) high++;
    if (low === high) return;
    // Only one text left, and it is complete: the value is done.
    if (high - low === 1 && texts[low].length === this.position + 1) out.push(parent);
    else out.push(push(new LiteralFrame(this.node, low, high, this.position + 1), parent));
  }
}

/** The smallest code point a UTF-8 character takes with this many continuation bytes. */
const SMALLEST_OF_WIDTH = [0, 0x80, 0x800, 0x10000];

/** The character each short escape stands for, by the byte after the backslash. */
const ESCAPED_CHARACTERS = new Map([...'"\\/bfnrt'].map((character, index) => [character.charCodeAt(0), [0x22, 0x5c, 0x2f, 0x08, 0x0c, 0x0a, 0x0d, 0x09][index]]));

/**
 * A string: before its opening quote (`state` -1), inside it (0), after a backslash (1), or inside a UTF-8
 * character (`pending` continuation bytes to come). `count` is the characters so far, escapes counting one.
 * Control characters are never allowed raw (JSON forbids them), and only the short escapes are written.
 * Under a `pattern` (or `format`), `match` is the pattern automaton's state after the characters so far, and
 * `partial` the bits of a multi-byte character read so far: each character is stepped once whole, and its first
 * bytes only where the pattern takes some character they can begin.
 */
export class StringFrame implements Frame {
  private madeKey: string | undefined;
  readonly canEnd = false;
  constructor(
    readonly node: Extract<GrammarNode, { kind: 'string' }>,
    readonly state: -1 | 0 | 1,
    readonly count: number,
    readonly pending: number,
    /** The character's first byte while its second is due: it narrows that byte (see `continuationRange`). */
    readonly lead = 0,
    readonly match = node.pattern ? node.pattern.start : -1,
    readonly partial = 0,
  ) {}
  get key(): string {
    if (this.madeKey !== undefined) return this.madeKey;
    const { node, state, count, pending, lead, match, partial } = this;
    // Past the bounds the count no longer changes what may follow, so it leaves the key.
    const counted = node.maxLength !== Infinity ? count : Math.min(count, node.minLength);
    return (this.madeKey = `S${node.id}:${state}:${counted}:${pending}:${continuationRange(lead)[0]}${node.pattern ? `:${match}:${partial}` : ''}`);
  }
  /** Characters this string may still take. */
  get room(): number {
    return this.node.maxLength - this.count;
  }
  /**
   * The pattern's state after `codePoint`, the string then holding `count` characters; -1 if the pattern refuses
   * it, or if no match could be finished within maxLength from there (no pattern: anything goes, 0).
   */
  private stepPattern(codePoint: number, count: number): number {
    const { pattern, maxLength } = this.node;
    if (!pattern) return 0;
    const match = pattern.step(this.match, codePoint);
    return match >= 0 && count + pattern.shortestRest(match) <= maxLength ? match : -1;
  }
  /**
   * Some character in `[low, high]` may come next under the pattern, the string then holding `count` characters:
   * where maxLength leaves no slack, only one that brings the match closer.
   */
  private allows(low: number, high: number, count: number): boolean {
    const { pattern, maxLength } = this.node;
    if (!pattern) return true;
    return pattern.allowsRange(this.match, low, high, count + pattern.shortestRest(this.match) > maxLength);
  }
  next(byte: number, parent: Stack, out: Stack[]): void {
    const { node, count } = this;
    if (this.state === -1) {
      if (byte === QUOTE) out.push(push(new StringFrame(node, 0, 0, 0), parent));
      return;
    }
    if (this.state === 1) {
      const character = ESCAPED_CHARACTERS.get(byte);
      if (character === undefined) return;
      const match = this.stepPattern(character, count + 1);
      if (match >= 0) out.push(push(new StringFrame(node, 0, count + 1, 0, 0, match), parent));
      return;
    }
    if (this.pending > 0) {
      const [low, high] = continuationRange(this.lead);
      if (byte < low || byte > high) return;
      const partial = (this.partial << 6) | (byte & 0x3f);
      const pending = this.pending - 1;
      if (pending === 0) {
        const match = this.stepPattern(partial, count);
        if (match >= 0) out.push(push(new StringFrame(node, 0, count, 0, 0, match), parent));
      } else if (this.allows(partial << (6 * pending), ((partial + 1) << (6 * pending)) - 1, count)) {
        out.push(push(new StringFrame(node, 0, count, pending, 0, this.match, partial), parent));
      }
      return;
    }
    if (byte === QUOTE) {
      if (count >= node.minLength && (!node.pattern || node.pattern.accepts(this.match))) out.push(parent);
      return;
    }
    if (count >= node.maxLength) return;
    if (byte === BACKSLASH) {
      // Only where the pattern takes some escaped character: a backslash must not lead into a dead end.
      if (!node.pattern || [...ESCAPED_CHARACTERS.values()].some((character) => this.allows(character, character, count + 1))) out.push(push(new StringFrame(node, 1, count, 0, 0, this.match), parent));
    } else if (byte >= 0x20 && byte < 0x80) {
      const match = this.stepPattern(byte, count + 1);
      if (match >= 0) out.push(push(new StringFrame(node, 0, count + 1, 0, 0, match), parent));
    } else if (byte >= 0xc2 && byte <= 0xf4) {
      const pending = byte >= 0xf0 ? 3 : byte >= 0xe0 ? 2 : 1;
      const partial = byte & (0x3f >> pending);
      // The first byte's bits alone would admit overlong forms (0xe0 0x80 0x80 is not U+0000): start at the width's least.
      const low = Math.max(partial << (6 * pending), SMALLEST_OF_WIDTH[pending]);
      if (this.allows(low, Math.min(((partial + 1) << (6 * pending)) - 1, 0x10ffff), count + 1)) out.push(push(new StringFrame(node, 0, count + 1, pending, byte, this.match, partial), parent));
    }
  }
}

/**
 * The bytes that may follow a character's first byte in well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing past U+10FFFF): anything else would be decoded as U+FFFD, one character per byte, and break maxLength.
 * Later continuation bytes (lead 0) take the whole range.
 */
export function continuationRange(lead: number): readonly [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

/** Digits allowed before and after the point: enough for any double, and an end for models that never stop. */
const MAX_INTEGER_DIGITS = 15;
const MAX_FRACTION_DIGITS = 8;
const NUMBER_PREFIX = /^-?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)?$/;
const COMPLETE_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;

/** A number as written so far (`text`), in plain notation (no exponent), within the schema's bounds. */
class NumberFrame implements Frame {
  private madeKey: string | undefined;
  readonly canEnd: boolean;
  constructor(
    private readonly node: Extract<GrammarNode, { kind: 'number' }>,
    private readonly text: string,
  ) {
    this.canEnd = COMPLETE_NUMBER.test(text) && (!node.bounds || withinBounds(Number(text), node.bounds));
  }
  get key(): string {
    const { node, text } = this;
    // Without bounds only the number's shape matters: which digits were written does not.
    return (this.madeKey ??= `N${node.id}:${node.bounds ? text : text.replace(/[1-9]|(?<=[0-9.])0/g, '1')}`);
  }
  next(byte: number, parent: Stack, out: Stack[]): void {
    const isDigit = byte >= 0x30 && byte <= 0x39;
    if (!isDigit && byte !== 0x2d && byte !== 0x2e) return;
    if (byte === 0x2e && this.node.integer) return;
    const text = this.text + String.fromCharCode(byte);
    if (!NUMBER_PREFIX.test(text)) return;
    const [integerPart, fraction = ''] = text.replace('-', '').split('.');
    if (integerPart.length > MAX_INTEGER_DIGITS || fraction.length > MAX_FRACTION_DIGITS) return;
    if (this.node.bounds && !canReachBounds(text, this.node.bounds, this.node.integer)) return;
    out.push(push(new NumberFrame(this.node, text), parent));
  }
}

function withinBounds(value: number, bounds: NumberBounds): boolean {
  const aboveLow = bounds.exclusiveMinimum ? value > bounds.minimum : value >= bounds.minimum;
  const belowHigh = bounds.exclusiveMaximum ? value < bounds.maximum : value <= bounds.maximum;
  return aboveLow && belowHigh;
}

/**
 * Whether some number written from `text` on lies within the bounds: the values reachable from a prefix are a few
 * intervals (the digits so far, with 0-n more digits, then maybe a fraction), each checked against them.
 */
function canReachBounds(text: string, bounds: NumberBounds, integer: boolean): boolean {
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  // Closed intervals of what the digits still allowed can reach (a number has at most MAX_FRACTION_DIGITS decimals).
  const finest = integer ? 1 : 10 ** -MAX_FRACTION_DIGITS;
  const intervals: [number, number][] = [];
  if (body === '') {
    // Only a sign (any magnitude, negated below) or nothing yet (any value).
    intervals.push(negative ? [0, Infinity] : [-Infinity, Infinity]);
  } else if (body.includes('.')) {
    const [integerPart, fraction] = body.split('.');
    const low = Number(`${integerPart}.${fraction || '0'}`);
    intervals.push([low, fraction.length >= MAX_FRACTION_DIGITS ? low : low + 10 ** -fraction.length - finest]);
  } else if (body === '0') {
    intervals.push([0, integer ? 0 : 1 - finest]);
  } else {
    const digits = Number(body);
    for (let extra = 0; body.length + extra <= MAX_INTEGER_DIGITS; extra++) {
      const scale = 10 ** extra;
      intervals.push([digits * scale, (digits + 1) * scale - finest]);
    }
  }
  return intervals.some(([low, high]) => {
    const [from, to] = negative ? [-high, -low] : [low, high];
    const aboveLow = bounds.exclusiveMinimum ? to > bounds.minimum : to >= bounds.minimum;
    const belowHigh = bounds.exclusiveMaximum ? from < bounds.maximum : from <= bounds.maximum;
    return aboveLow && belowHigh;
  });
}

/** An array: before `[` (`start`), just after it (`open`), or after `count` items. */
class ArrayFrame implements Frame {
  readonly key: string;
  readonly canEnd = false;
  constructor(
    private readonly node: Extract<GrammarNode, { kind: 'array' }>,
    private readonly state: 'start' | 'open' | 'after',
    private readonly count: number,
  ) {
    const counted = node.maxItems !== Infinity ? count : Math.min(count, node.minItems);
    this.key = `A${node.id}:${state}:${counted}`;
  }
  next(byte: number, parent: Stack, out: Stack[]): void {
    const { node, count } = this;
    if (this.state === 'start') {
      if (byte !== 0x5b) return;
      if (node.minItems === 0) out.push(push(new ArrayFrame(node, 'open', 0), parent));
      if (node.maxItems > 0) startValue(node.items, push(new ArrayFrame(node, 'after', 1), parent), out);
    } else if (byte === 0x5d) {
      if (this.state === 'open' || count >= node.minItems) out.push(parent);
    } else if (byte === COMMA && this.state === 'after' && count < node.maxItems) {
      startValue(node.items, push(new ArrayFrame(node, 'after', count + 1), parent), out);
    }
  }
}

/**
 * An object of listed properties, written in their order; optional ones may be left out. `next` is the index of
 * the first property that may still come.
 */
class ObjectFrame implements Frame {
  readonly key: string;
  readonly canEnd = false;
  constructor(
    private readonly node: Extract<GrammarNode, { kind: 'object' }>,
    private readonly state: 'start' | 'after',
    private readonly nextIndex: number,
  ) {
    this.key = `O${node.id}:${state}:${nextIndex}`;
  }
  private startProperties(from: number, parent: Stack, out: Stack[]): void {
    const { properties } = this.node;
    for (let index = from; index < properties.length; index++) {
      const property = properties[index];
      startSequence(property.key, property.value, push(new ObjectFrame(this.node, 'after', index + 1), parent), out);
      // A required property cannot be skipped: none after it may come first.
      if (property.required) break;
    }
  }
  private mayClose(): boolean {
    return this.node.properties.slice(this.nextIndex).every((property) => !property.required);
  }
  next(byte: number, parent: Stack, out: Stack[]): void {
    if (this.state === 'start') {
      if (byte !== 0x7b) return;
      // `{` read: either `}` at once (nothing required) or the first property's key.
      if (this.mayClose()) out.push(push(CLOSING_BRACE, parent));
      this.startProperties(0, parent, out);
    } else if (byte === 0x7d) {
      if (this.mayClose()) out.push(parent);
    } else if (byte === COMMA) {
      this.startProperties(this.nextIndex, parent, out);
    }
  }
}

/** The `}` of an object that was just opened and takes nothing more. */
const CLOSING_BRACE: Frame = {
  key: '}',
  canEnd: false,
  next(byte, parent, out) {
    if (byte === 0x7d) out.push(parent);
  },
};

/** An object of any string keys, each value of one schema (`additionalProperties`, or any JSON). */
class MapFrame implements Frame {
  readonly key: string;
  readonly canEnd = false;
  constructor(
    private readonly node: Extract<GrammarNode, { kind: 'map' }>,
    private readonly state: 'start' | 'after',
  ) {
    this.key = `M${node.id}:${state}`;
  }
  private startEntry(parent: Stack, out: Stack[]): void {
    const { key, colon, value } = this.node;
    const afterColon: Stack[] = [];
    startSequence(colon, value, push(new MapFrame(this.node, 'after'), parent), afterColon);
    for (const stack of afterColon) startValue(key, stack, out);
  }
  next(byte: number, parent: Stack, out: Stack[]): void {
    if (this.state === 'start') {
      if (byte !== 0x7b) return;
      out.push(push(CLOSING_BRACE, parent));
      this.startEntry(parent, out);
    } else if (byte === 0x7d) {
      out.push(parent);
    } else if (byte === COMMA) {
      this.startEntry(parent, out);
    }
  }
}

