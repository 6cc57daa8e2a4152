import {
  BertNormalizer,
  LowercaseNormalizer,
  NFCNormalizer,
  NFDNormalizer,
  NFKCNormalizer,
  NFKDNormalizer,
  PrecompiledNormalizer,
  ReplaceNormalizer,
  StripAccentsNormalizer,
  type Normalizer,
} from '@huggingface/tokenizers';
import { memoize } from './memoize.ts';
import type { Offset } from './tokenizer.ts';

/**
 * Character offsets for tokens, which @huggingface/tokenizers does not report.
 *
 * The original text is cut into units, one per code point, each remembering the span of the original it came
 * from. The tokenizer.json normalizer and the pre-tokenizer's character rewrites (Metaspace's "▁", ByteLevel's
 * prefix space) are applied unit by unit with the library's own normalizer classes, so the units' concatenation
 * is the text the model split. Tokens are then turned back into the UTF-8 bytes they stand for (undoing "##",
 * the GPT-2 byte-to-unicode table and `<0xNN>` byte-fallback pieces) and matched left to right against the
 * units' bytes. A token that covers part of a character (one byte of an emoji) gets that whole character's span.
 *
 * A token's span never includes the whitespace its space marker ("Ġ", "▁") stands for: the surface of "Ġworld"
 * is "world", as with RoBERTa's trimmed offsets. Special tokens get [0, 0].
 */
export function computeTokenOffsets(text: string, tokens: string[], special: boolean[], tokenizerJson: object): Offset[] {
  let aligner = alignerCache.get(tokenizerJson);
  if (!aligner) {
    aligner = createTokenAligner(tokenizerJson);
    alignerCache.set(tokenizerJson, aligner);
  }
  return aligner(text, tokens, special);
}

export interface TokenAligner {
  (text: string, tokens: string[], special: boolean[]): Offset[];
  /** What the normalizer does to printable ASCII when the shortcut for it is on: nothing, or lowercasing. */
  readonly printableAscii: 'same' | 'lowercase' | undefined;
}

const alignerCache = new WeakMap<object, TokenAligner>();

type Config = Record<string, unknown> & { type?: string };

interface TokenizerJson {
  normalizer?: Config | null;
  pre_tokenizer?: Config | null;
  post_processor?: Config | null;
  decoder?: Config | null;
  model?: Config & { vocab?: unknown };
  added_tokens?: { content: string; special?: boolean }[];
}

/** A piece of normalized text and the span [start, end) of the original text it stands for. */
interface Unit {
  text: string;
  start: number;
  end: number;
}

const SPACE_MARKER = '\u2581';

// Characters the BERT pre-tokenizer splits off as words of their own (tokenizers.js's PUNCTUATION_REGEX).
const PUNCTUATION = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';

/** How a whole word that became one unknown token is delimited, by pre-tokenizer type. */
const WORD_PATTERNS: Record<string, RegExp> = {
  BertPreTokenizer: new RegExp(`[^\\s${PUNCTUATION}]+|[${PUNCTUATION}]`, 'uy'),
  Whitespace: /\w+|[^\w\s]+/uy,
};
const DEFAULT_WORD_PATTERN = /\S+/uy;

export interface TokenAlignerOptions {
  /** Find the tokens of a printable-ASCII text by string comparison where the normalizer allows it. Default true. */
  printableAsciiShortcut?: boolean;
}

/** The aligner `computeTokenOffsets` uses for one tokenizer.json; exported so tests can compare its two ways. */
export function createTokenAligner(tokenizerJson: object, { printableAsciiShortcut = true }: TokenAlignerOptions = {}): TokenAligner {
  const json = tokenizerJson as TokenizerJson;
  const model = json.model ?? {};
  const modelType = typeof model.type === 'string' ? model.type : inferModelType(model);
  const preTokenizers = flatten(json.pre_tokenizer, 'pretokenizers');
  const decoders = flatten(json.decoder, 'decoders');
  const byteLevel = [...preTokenizers, ...decoders].some((config) => config.type === 'ByteLevel');
  const metaspace = preTokenizers.find((config) => config.type === 'Metaspace');
  const marker = byteLevel ? ' ' : typeof metaspace?.replacement === 'string' ? metaspace.replacement : SPACE_MARKER;
  const subwordPrefix = stringOrUndefined(model.continuing_subword_prefix);
  const wordSuffix = stringOrUndefined(model.end_of_word_suffix);
  const byteFallback = model.byte_fallback === true;
  const unkToken = readUnkToken(model);
  const addedTokens = new Set((json.added_tokens ?? []).map((token) => token.content));
  const wordPattern = WORD_PATTERNS[preTokenizers.find((config) => config.type && config.type in WORD_PATTERNS)?.type ?? ''] ?? DEFAULT_WORD_PATTERN;
  const normalize = createUnitNormalizer(json.normalizer ?? null);
  const preTokenizerRewrites = preTokenizers.map(createPreTokenizerRewrite);
  const encoder = new TextEncoder();
  const markerBytes = encoder.encode(marker);

  /** The bytes a token stands for in the normalized text. */
  const decodeToken = (token: string): Uint8Array => {
    if (addedTokens.has(token)) return encoder.encode(token);
    let surface = token;
    if (subwordPrefix && surface.length > subwordPrefix.length && surface.startsWith(subwordPrefix)) surface = surface.slice(subwordPrefix.length);
    if (wordSuffix && surface.length > wordSuffix.length && surface.endsWith(wordSuffix)) surface = surface.slice(0, -wordSuffix.length);
    const byte = byteFallback ? /^<0x([0-9A-Fa-f]{2})>$/.exec(surface) : null;
    if (byte) return Uint8Array.of(parseInt(byte[1], 16));
    return byteLevel ? decodeByteLevel(surface, encoder) : encoder.encode(surface);
  };
  // Tokens are vocabulary entries, so a text's tokens are nearly all known from earlier texts.
  const tokenBytes = memoize(decodeToken);

  const asciiCase = printableAsciiShortcut && !byteLevel && !byteFallback && !wordSuffix ? detectAsciiNormalization(json, preTokenizers, normalize, preTokenizerRewrites) : undefined;
  /** The text a token stands for, if it is printable ASCII without spaces; null otherwise. */
  const asciiTokenText = (token: string): string | null => {
    // What decodeToken does for a tokenizer without byte-level symbols, byte pieces or word suffixes, on strings.
    const surface = subwordPrefix && token.length > subwordPrefix.length && token.startsWith(subwordPrefix) ? token.slice(subwordPrefix.length) : token;
    if (surface.length === 0) return null;
    for (let index = 0; index < surface.length; index++) {
      const code = surface.charCodeAt(index);
      if (code <= 0x20 || code >= 0x7f) return null;
    }
    return surface;
  };

  /**
   * Printable ASCII that the normalizer leaves alone (or only lowercases) is the text the model split, character
   * for character: each token is then found by comparing strings, with no units or bytes built. Anything this does
   * not cover (an unknown token, an added token written in the text, a token not found where expected) returns
   * undefined, and the text takes the general way.
   */
  const alignPrintableAscii = (text: string, tokens: string[], special: boolean[]): Offset[] | undefined => {
    const normalized = asciiCase === 'lowercase' ? text.toLowerCase() : text;
    const offsets: Offset[] = new Array(tokens.length);
    let cursor = 0;
    for (let index = 0; index < tokens.length; index++) {
      const token = tokens[index];
      if (token === unkToken) return undefined;
      if (addedTokens.has(token)) {
        if (!special[index] || text.startsWith(token, skipAsciiSpaces(text, cursor))) return undefined;
        offsets[index] = [0, 0];
        continue;
      }
      const surface = asciiTokenText(token);
      if (surface === null) return undefined;
      let from = cursor;
      if (!normalized.startsWith(surface, from)) {
        from = skipAsciiSpaces(normalized, cursor);
        if (!normalized.startsWith(surface, from)) return undefined;
      }
      cursor = from + surface.length;
      offsets[index] = [from, cursor];
    }
    return offsets;
  };

  const align = (text: string, tokens: string[], special: boolean[]) =>
    (asciiCase !== undefined && PRINTABLE_ASCII.test(text) && alignPrintableAscii(text, tokens, special)) || alignUnits(text, tokens, special);
  return Object.assign(align, { printableAscii: asciiCase });

  function alignUnits(text: string, tokens: string[], special: boolean[]): Offset[] {
    let units = normalize(splitIntoCodePoints(text));
    for (const rewrite of preTokenizerRewrites) units = rewrite(units);
    const stream = new ByteStream(units);
    const surfaces = tokens.map(tokenBytes);
    const offsets: Offset[] = [];
    let cursor = 0;

    const spanOf = (from: number, to: number): Offset => {
      if (to <= from) {
        const position = from < stream.length ? stream.start[from] : text.length;
        return [position, position];
      }
      return trimWhitespace(text, stream.start[from], extendOverMarks(units, text, stream.unit[to - 1]));
    };

    /** Where `bytes` matches at or just after the cursor, trying the ways a tokenizer may have moved past text. */
    const findToken = (index: number): { from: number; to: number } | undefined => {
      const bytes = surfaces[index];
      if (stream.matches(cursor, bytes)) return { from: cursor, to: cursor + bytes.length };
      const afterWhitespace = stream.skipWhitespace(cursor);
      if (stream.matches(afterWhitespace, bytes)) return { from: afterWhitespace, to: afterWhitespace + bytes.length };
      // A marker the tokenizer prepended to a section (after a special token, say) has no counterpart in the text.
      if (bytes.length > markerBytes.length && startsWithBytes(bytes, markerBytes)) {
        const bare = bytes.length - markerBytes.length;
        if (stream.matches(cursor, bytes, markerBytes.length)) return { from: cursor, to: cursor + bare };
        if (stream.matches(afterWhitespace, bytes, markerBytes.length)) return { from: afterWhitespace, to: afterWhitespace + bare };
      }
      if (equalBytes(bytes, markerBytes)) return { from: cursor, to: cursor };
      // Normalization differed from the library's somewhere: look a little further ahead rather than give up.
      const found = stream.search(cursor, bytes, 512);
      return found === undefined ? undefined : { from: found, to: found + bytes.length };
    };

    /** An unknown token covers a whole pre-tokenizer word (WordPiece) or the text up to the next known token. */
    const findUnknown = (index: number): { from: number; to: number } => {
      const from = stream.skipWhitespace(cursor);
      if (from >= stream.length) return { from, to: from };
      if (modelType === 'WordPiece') {
        const character = stream.characterIndex(from);
        wordPattern.lastIndex = character;
        const match = wordPattern.exec(stream.normalized);
        const end = match ? character + match[0].length : character + 1;
        return { from, to: stream.byteIndex(end) };
      }
      const firstCharacterEnd = stream.byteIndex(stream.characterIndex(from) + 1);
      for (let next = index + 1; next < tokens.length; next++) {
        if (tokens[next] === unkToken || special[next]) continue;
        const bytes = surfaces[next];
        const bare = startsWithBytes(bytes, markerBytes) && bytes.length > markerBytes.length ? bytes.subarray(markerBytes.length) : bytes;
        const found = [stream.search(firstCharacterEnd, bytes, 512), stream.search(firstCharacterEnd, bare, 512)]
          .filter((position): position is number => position !== undefined)
          .sort((a, b) => a - b)[0];
        if (found !== undefined) return { from, to: stream.trimTrailingWhitespace(from, found) };
        break;
      }
      return { from, to: stream.trimTrailingWhitespace(from, stream.length) };
    };

    /** Added tokens are cut out of the original text before normalization, so look for them there. */
    const findAddedInText = (token: string): number | undefined => {
      let position = cursor < stream.length ? stream.start[cursor] : text.length;
      while (position < text.length && isWhitespaceCharacter(text, position)) position++;
      return text.startsWith(token, position) ? position : undefined;
    };

    for (let index = 0; index < tokens.length; index++) {
      const token = tokens[index];
      const unknown = token === unkToken;
      if (addedTokens.has(token)) {
        const position = findAddedInText(token);
        if (position !== undefined) {
          cursor = stream.firstByteFrom(position + token.length, cursor);
          offsets.push(special[index] && !unknown ? [0, 0] : [position, position + token.length]);
          continue;
        }
        if (special[index] && !unknown) {
          // Added by the post-processor ([CLS], <s>): it stands for no text.
          offsets.push([0, 0]);
          continue;
        }
      }
      const match = unknown ? findUnknown(index) : findToken(index);
      if (!match) {
        offsets.push(spanOf(cursor, cursor));
        continue;
      }
      offsets.push(spanOf(match.from, match.to));
      cursor = match.to;
    }
    return offsets;
  }
}

/** A text of printable ASCII characters only (space to tilde), what most English requests are. */
export const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;

/** Normalizers that map each character on its own, so 95 characters tell what they do to every ASCII text. */
const PER_CHARACTER_NORMALIZERS = new Set(['BertNormalizer', 'NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'StripAccents']);

/**
 * Whether this tokenizer's normalizer and pre-tokenizer leave every printable ASCII character as it is ("same") or
 * lowercase it ("lowercase"), found by rewriting all 95 of them as units (Metaspace's "▁" or a prepended unit shows
 * there); undefined for anything else. Replacements are refused outright: a pattern may span characters, which
 * single characters cannot show; so is a SentencePiece character map.
 */
function detectAsciiNormalization(json: TokenizerJson, preTokenizers: Config[], normalize: UnitRewrite, preTokenizerRewrites: UnitRewrite[]): 'same' | 'lowercase' | undefined {
  const normalizers = flatten(json.normalizer, 'normalizers');
  if (!normalizers.every((config) => config.type !== undefined && PER_CHARACTER_NORMALIZERS.has(config.type))) return undefined;
  if (preTokenizers.some((config) => config.type === 'Replace')) return undefined;
  let characters = '';
  for (let code = 0x20; code <= 0x7e; code++) characters += String.fromCharCode(code);
  let units = normalize(splitIntoCodePoints(characters));
  for (const rewrite of preTokenizerRewrites) units = rewrite(units);
  const result = units.map((unit) => unit.text).join('');
  if (units.length !== characters.length) return undefined;
  if (result === characters) return 'same';
  return result === characters.toLowerCase() ? 'lowercase' : undefined;
}

/** Past ASCII whitespace from `at`: tab, line feed, vertical tab, form feed, carriage return and space. */
function skipAsciiSpaces(text: string, at: number): number {
  while (at < text.length && isAsciiWhitespace(text.charCodeAt(at))) at++;
  return at;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function inferModelType(model: Config): string {
  if (model.continuing_subword_prefix === '##' && model.max_input_chars_per_word !== undefined) return 'WordPiece';
  if (Array.isArray(model.vocab)) return 'Unigram';
  return model.merges ? 'BPE' : 'WordPiece';
}

function readUnkToken(model: Config): string | undefined {
  if (typeof model.unk_token === 'string') return model.unk_token;
  if (typeof model.unk_id === 'number' && Array.isArray(model.vocab)) {
    const entry = model.vocab[model.unk_id];
    if (Array.isArray(entry) && typeof entry[0] === 'string') return entry[0];
  }
  return undefined;
}

/** A component and, for a Sequence, the components inside it, depth first. */
function flatten(config: Config | null | undefined, listKey: string): Config[] {
  if (!config) return [];
  const children = config[listKey];
  if (config.type === 'Sequence' && Array.isArray(children)) return children.flatMap((child) => flatten(child as Config, listKey));
  return [config];
}

function splitIntoCodePoints(text: string): Unit[] {
  const units: Unit[] = [];
  for (let index = 0; index < text.length; ) {
    const codePoint = text.codePointAt(index)!;
    const length = codePoint > 0xffff ? 2 : 1;
    units.push({ text: text.slice(index, index + length), start: index, end: index + length });
    index += length;
  }
  return units;
}

type UnitRewrite = (units: Unit[]) => Unit[];

/** Applies a tokenizer.json normalizer to units, keeping each unit's original span. */
function createUnitNormalizer(config: Config | null): UnitRewrite {
  if (!config) return (units) => units;
  switch (config.type) {
    case 'Sequence': {
      const steps = ((config.normalizers as Config[] | undefined) ?? []).map((child) => createUnitNormalizer(child));
      return (units) => steps.reduce((current, step) => step(current), units);
    }
    case 'Prepend':
      return (units) => prependVirtualUnit(units, String(config.prepend ?? ''));
    case 'Strip':
      return (units) => stripUnits(units, config.strip_left !== false, config.strip_right !== false);
    case 'Replace': {
      const pattern = (new ReplaceNormalizer(config as never) as unknown as { pattern: RegExp | null }).pattern;
      return (units) => (pattern ? replaceAcrossUnits(units, pattern, String(config.content ?? '')) : units);
    }
    default: {
      const normalizer = createLibraryNormalizer(config);
      if (!normalizer) return (units) => units;
      // A unit is one character (or what an earlier step made of it), so a few hundred distinct units cover most texts.
      const normalizeText = memoize((text: string) => normalizer.normalize(text));
      return (units) =>
        units.map((unit) => {
          const text = normalizeText(unit.text);
          return text === unit.text ? unit : { text, start: unit.start, end: unit.end };
        });
    }
  }
}

/** The library's own implementation of a per-character normalizer, so units normalize exactly as the tokens did. */
function createLibraryNormalizer(config: Config): Normalizer | undefined {
  const constructors: Record<string, new (config: never) => Normalizer> = {
    BertNormalizer,
    NFC: NFCNormalizer,
    NFD: NFDNormalizer,
    NFKC: NFKCNormalizer,
    NFKD: NFKDNormalizer,
    Lowercase: LowercaseNormalizer,
    StripAccents: StripAccentsNormalizer,
    Precompiled: PrecompiledNormalizer,
  };
  const Constructor = config.type ? constructors[config.type] : undefined;
  return Constructor ? new Constructor(config as never) : undefined;
}

/** The pre-tokenizer steps that change characters rather than only split: Metaspace, ByteLevel's prefix space, Replace. */
function createPreTokenizerRewrite(config: Config): UnitRewrite {
  switch (config.type) {
    case 'Metaspace': {
      const replacement = typeof config.replacement === 'string' ? config.replacement : SPACE_MARKER;
      const prepend = (config.prepend_scheme ?? 'always') !== 'never';
      return (units) => {
        const replaced = units.map((unit) => ({ ...unit, text: unit.text.replaceAll(' ', replacement) }));
        const first = replaced.find((unit) => unit.text.length > 0);
        return prepend && !first?.text.startsWith(replacement) ? prependVirtualUnit(replaced, replacement) : replaced;
      };
    }
    case 'ByteLevel':
      return (units) => {
        if (config.add_prefix_space !== true) return units;
        const first = units.find((unit) => unit.text.length > 0);
        return first?.text.startsWith(' ') ? units : prependVirtualUnit(units, ' ');
      };
    case 'Replace': {
      const pattern = (new ReplaceNormalizer(config as never) as unknown as { pattern: RegExp | null }).pattern;
      return (units) => (pattern ? replaceAcrossUnits(units, pattern, String(config.content ?? '')) : units);
    }
    default:
      return (units) => units;
  }
}

/** Text the tokenizer adds that is in no part of the original: it spans nothing, at the start. */
function prependVirtualUnit(units: Unit[], text: string): Unit[] {
  const position = units.length > 0 ? units[0].start : 0;
  return [{ text, start: position, end: position }, ...units];
}

function stripUnits(units: Unit[], left: boolean, right: boolean): Unit[] {
  const result = units.map((unit) => ({ ...unit }));
  if (left) {
    for (const unit of result) {
      unit.text = unit.text.trimStart();
      if (unit.text.length > 0) break;
    }
  }
  if (right) {
    for (let index = result.length - 1; index >= 0; index--) {
      result[index].text = result[index].text.trimEnd();
      if (result[index].text.length > 0) break;
    }
  }
  return result;
}

/** A replacement whose match spans several units becomes one unit spanning all of their originals. */
function replaceAcrossUnits(units: Unit[], pattern: RegExp, content: string): Unit[] {
  const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
  const joined = units.map((unit) => unit.text).join('');
  const matches = [...joined.matchAll(new RegExp(pattern.source, flags))]
    .filter((match) => match[0].length > 0)
    .map((match) => [match.index!, match.index! + match[0].length] as const);
  if (matches.length === 0) return units;
  const result: Unit[] = [];
  let matchIndex = 0;
  let replacement: Unit | undefined;
  let position = 0;
  for (const unit of units) {
    let kept = '';
    const flushKept = () => {
      if (kept.length > 0) result.push({ ...unit, text: kept });
      kept = '';
    };
    if (unit.text.length === 0) {
      while (matchIndex < matches.length && matches[matchIndex][1] <= position) matchIndex++;
      const match = matches[matchIndex];
      // A unit the normalizer emptied inside a replaced stretch belongs to the replacement.
      if (match && position > match[0] && replacement) replacement.end = Math.max(replacement.end, unit.end);
      else result.push(unit);
      continue;
    }
    for (let k = 0; k < unit.text.length; k++) {
      const at = position + k;
      while (matchIndex < matches.length && matches[matchIndex][1] <= at) matchIndex++;
      const match = matches[matchIndex];
      if (match && at >= match[0]) {
        flushKept();
        if (at === match[0]) {
          replacement = { text: content, start: unit.start, end: unit.end };
          result.push(replacement);
        } else if (replacement) {
          replacement.end = Math.max(replacement.end, unit.end);
        }
      } else {
        kept += unit.text[k];
      }
    }
    flushKept();
    position += unit.text.length;
  }
  return result;
}

/** The normalized text as UTF-8 bytes, each byte knowing its unit and the original span behind it. */
class ByteStream {
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

/** JavaScript's `\s` for ASCII: tab, line feed, vertical tab, form feed, carriage return and space. */
function isAsciiWhitespace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

const WHITESPACE = /^\s$/u;

function isWhitespaceSymbol(text: string, index: number, width: number): boolean {
  return WHITESPACE.test(width === 1 ? text[index] : text.slice(index, index + width));
}

/** `/\s/u.test(text[index])`, without a regular expression for ASCII: it runs for every token of every request. */
export function isWhitespaceCharacter(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code < 0x80 ? isAsciiWhitespace(code) : WHITESPACE.test(text[index]);
}

/** Combining marks a normalizer removed (accents stripped from "é" written as e + U+0301) belong to their base. */
function extendOverMarks(units: Unit[], text: string, lastUnit: number): number {
  let end = units[lastUnit].end;
  for (let index = lastUnit + 1; index < units.length; index++) {
    const unit = units[index];
    if (unit.text.length > 0 || unit.start !== end || !/^\p{M}+$/u.test(text.slice(unit.start, unit.end))) break;
    end = unit.end;
  }
  return end;
}

/** Drops the whitespace a space marker stood for, unless the token is nothing but whitespace. */
function trimWhitespace(text: string, start: number, end: number): Offset {
  let trimmedStart = start;
  let trimmedEnd = end;
  while (trimmedStart < trimmedEnd && isWhitespaceCharacter(text, trimmedStart)) trimmedStart++;
  while (trimmedEnd > trimmedStart && isWhitespaceCharacter(text, trimmedEnd - 1)) trimmedEnd--;
  return trimmedStart < trimmedEnd ? [trimmedStart, trimmedEnd] : [start, end];
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && startsWithBytes(a, b);
}

function startsWithBytes(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length === 0 || bytes.length < prefix.length) return false;
  for (let k = 0; k < prefix.length; k++) if (bytes[k] !== prefix[k]) return false;
  return true;
}

/** GPT-2's table: every byte has a printable stand-in character ("Ġ" for a space). This inverts it. */
const UNICODE_TO_BYTE: ReadonlyMap<string, number> = (() => {
  const printable: number[] = [];
  for (let byte = 0x21; byte <= 0x7e; byte++) printable.push(byte);
  for (let byte = 0xa1; byte <= 0xac; byte++) printable.push(byte);
  for (let byte = 0xae; byte <= 0xff; byte++) printable.push(byte);
  const table = new Map<string, number>();
  for (const byte of printable) table.set(String.fromCharCode(byte), byte);
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) {
    if (!printable.includes(byte)) table.set(String.fromCharCode(256 + shifted++), byte);
  }
  return table;
})();

function decodeByteLevel(token: string, encoder: TextEncoder): Uint8Array {
  const bytes: number[] = [];
  for (const symbol of token) {
    const byte = UNICODE_TO_BYTE.get(symbol);
    if (byte !== undefined) bytes.push(byte);
    else bytes.push(...encoder.encode(symbol));
  }
  return Uint8Array.from(bytes);
}
