import { isAsciiWhitespace, isWhitespaceSymbol } from './whitespace.ts';
import type { Unit } from './text-units.ts';

/** The normalized text as UTF-8 bytes, each byte knowing its unit and the original span behind it. */
export class ByteStream {
  readonly length: number;
  /** Per byte: where its unit starts in the original text, and the unit's index. */
  readonly start: Int32Array;
  readonly unit: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #whitespace: Uint8Array;
  readonly #characterOfByte: Int32Array;
  readonly #byteOfCharacter: Int32Array;
  readonly #units: readonly Unit[];
  #normalized: string | undefined;

  /**
   * Encodes the units' UTF-8 by hand, in two passes over their characters (sizes, then bytes), rather than with
   * a TextEncoder call per unit: this runs on every extract request, once per character. Lone surrogates become
   * U+FFFD, as TextEncoder writes them.
   */
  constructor(units: readonly Unit[]) {
    this.#units = units;
    let length = 0;
    let characters = 0;
    for (const { text } of units) {
      characters += text.length;
      for (let k = 0; k < text.length; k++) {
        const code = text.charCodeAt(k);
        if (code < 0x80) length += 1;
        else if (code < 0x800) length += 2;
        else if (isSurrogatePair(text, k)) {
          length += 4;
          k++;
        } else length += 3;
      }
    }
    const bytes = new Uint8Array(length);
    const start = new Int32Array(length);
    const unit = new Int32Array(length);
    const whitespace = new Uint8Array(length);
    const characterOfByte = new Int32Array(length + 1);
    const byteOfCharacter = new Int32Array(characters + 1);
    let offset = 0;
    let character = 0;
    for (let unitIndex = 0; unitIndex < units.length; unitIndex++) {
      const { text, start: unitStart } = units[unitIndex];
      for (let k = 0; k < text.length; ) {
        const pair = isSurrogatePair(text, k);
        const code = pair ? text.codePointAt(k)! : text.charCodeAt(k);
        const width = pair ? 2 : 1;
        const size = writeUtf8(bytes, offset, code >= 0xd800 && code <= 0xdfff ? 0xfffd : code);
        const isSpace = code < 0x80 ? isAsciiWhitespace(code) : isWhitespaceSymbol(text, k, width);
        for (let byte = offset; byte < offset + size; byte++) {
          start[byte] = unitStart;
          unit[byte] = unitIndex;
          characterOfByte[byte] = character;
          if (isSpace) whitespace[byte] = 1;
        }
        byteOfCharacter[character] = offset;
        if (pair) byteOfCharacter[character + 1] = offset;
        character += width;
        offset += size;
        k += width;
      }
    }
    characterOfByte[length] = character;
    byteOfCharacter[characters] = length;
    this.length = length;
    this.start = start;
    this.unit = unit;
    this.#bytes = bytes;
    this.#whitespace = whitespace;
    this.#characterOfByte = characterOfByte;
    this.#byteOfCharacter = byteOfCharacter;
  }

  /** The units' text joined: what the tokenizer's model split. */
  get normalized(): string {
    return (this.#normalized ??= this.#units.map((entry) => entry.text).join(''));
  }

  /** Whether `candidate` (from byte `skip` of it on) is at `at`. */
  matches(at: number, candidate: Uint8Array, skip = 0): boolean {
    const size = candidate.length - skip;
    if (size <= 0 || at + size > this.length) return false;
    const bytes = this.#bytes;
    for (let k = 0; k < size; k++) if (bytes[at + k] !== candidate[skip + k]) return false;
    return true;
  }

  search(from: number, candidate: Uint8Array, within: number): number | undefined {
    const last = Math.min(this.length - candidate.length, from + within);
    for (let at = from; at <= last; at++) if (this.matches(at, candidate)) return at;
    return undefined;
  }

  skipWhitespace(at: number): number {
    while (at < this.length && this.#whitespace[at]) at++;
    return at;
  }

  trimTrailingWhitespace(from: number, to: number): number {
    while (to > from && this.#whitespace[to - 1]) to--;
    return to;
  }

  characterIndex(byte: number): number {
    return this.#characterOfByte[Math.min(byte, this.length)];
  }

  byteIndex(character: number): number {
    return this.#byteOfCharacter[Math.min(character, this.#byteOfCharacter.length - 1)];
  }

  firstByteFrom(originalPosition: number, notBefore: number): number {
    let at = notBefore;
    while (at < this.length && this.start[at] < originalPosition) at++;
    return at;
  }
}

function isSurrogatePair(text: string, index: number): boolean {
  const high = text.charCodeAt(index);
  if (high < 0xd800 || high > 0xdbff || index + 1 >= text.length) return false;
  const low = text.charCodeAt(index + 1);
  return low >= 0xdc00 && low <= 0xdfff;
}

/** Writes one code point (not a surrogate) as UTF-8 at `offset`; returns its size in bytes. */
function writeUtf8(bytes: Uint8Array, offset: number, code: number): number {
  if (code < 0x80) {
    bytes[offset] = code;
    return 1;
  }
  if (code < 0x800) {
    bytes[offset] = 0xc0 | (code >> 6);
    bytes[offset + 1] = 0x80 | (code & 0x3f);
    return 2;
  }
  if (code < 0x10000) {
    bytes[offset] = 0xe0 | (code >> 12);
    bytes[offset + 1] = 0x80 | ((code >> 6) & 0x3f);
    bytes[offset + 2] = 0x80 | (code & 0x3f);
    return 3;
  }
  bytes[offset] = 0xf0 | (code >> 18);
  bytes[offset + 1] = 0x80 | ((code >> 12) & 0x3f);
  bytes[offset + 2] = 0x80 | ((code >> 6) & 0x3f);
  bytes[offset + 3] = 0x80 | (code & 0x3f);
  return 4;
}
