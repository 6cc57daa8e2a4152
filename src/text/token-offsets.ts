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
    aligner = createTokenAligner(tokenizerJson as TokenizerJson);
    alignerCache.set(tokenizerJson, aligner);
  }
  return aligner(text, tokens, special);
}

type TokenAligner = (text: string, tokens: string[], special: boolean[]) => Offset[];

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

function createTokenAligner(json: TokenizerJson): TokenAligner {
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
  const tokenBytes = (token: string): Uint8Array => {
    if (addedTokens.has(token)) return encoder.encode(token);
    let surface = token;
    if (subwordPrefix && surface.length > subwordPrefix.length && surface.startsWith(subwordPrefix)) surface = surface.slice(subwordPrefix.length);
    if (wordSuffix && surface.length > wordSuffix.length && surface.endsWith(wordSuffix)) surface = surface.slice(0, -wordSuffix.length);
    const byte = byteFallback ? /^<0x([0-9A-Fa-f]{2})>$/.exec(surface) : null;
    if (byte) return Uint8Array.of(parseInt(byte[1], 16));
    return byteLevel ? decodeByteLevel(surface, encoder) : encoder.encode(surface);
  };

  return (text, tokens, special) => {
    let units = normalize(splitIntoCodePoints(text));
    for (const rewrite of preTokenizerRewrites) units = rewrite(units);
    const stream = createByteStream(units);
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
      const afterWhitespace = stream.skipWhitespace(cursor);
      const candidates: [number, Uint8Array][] = [
        [cursor, bytes],
        [afterWhitespace, bytes],
      ];
      // A marker the tokenizer prepended to a section (after a special token, say) has no counterpart in the text.
      if (bytes.length > markerBytes.length && startsWithBytes(bytes, markerBytes)) {
        const bare = bytes.subarray(markerBytes.length);
        candidates.push([cursor, bare], [afterWhitespace, bare]);
      }
      for (const [position, candidate] of candidates) {
        if (stream.matches(position, candidate)) return { from: position, to: position + candidate.length };
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
      while (position < text.length && /\s/u.test(text[position])) position++;
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
  };
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
      return (units) => units.map((unit) => ({ ...unit, text: normalizer.normalize(unit.text) }));
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
interface ByteStream {
  readonly length: number;
  readonly normalized: string;
  readonly start: Int32Array;
  readonly unit: Int32Array;
  matches(position: number, bytes: Uint8Array): boolean;
  search(from: number, bytes: Uint8Array, within: number): number | undefined;
  skipWhitespace(position: number): number;
  trimTrailingWhitespace(from: number, to: number): number;
  characterIndex(byte: number): number;
  byteIndex(character: number): number;
  firstByteFrom(originalPosition: number, notBefore: number): number;
}

function createByteStream(units: Unit[]): ByteStream {
  const encoder = new TextEncoder();
  const chunks = units.map((unit) => encoder.encode(unit.text));
  const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const bytes = new Uint8Array(length);
  const start = new Int32Array(length);
  const unit = new Int32Array(length);
  const whitespace = new Uint8Array(length);
  const characterOfByte = new Int32Array(length + 1);
  const byteOfCharacter: number[] = [];
  let position = 0;
  let character = 0;
  chunks.forEach((chunk, unitIndex) => {
    bytes.set(chunk, position);
    start.fill(units[unitIndex].start, position, position + chunk.length);
    unit.fill(unitIndex, position, position + chunk.length);
    let offset = position;
    for (const symbol of units[unitIndex].text) {
      const size = utf8Length(symbol.codePointAt(0)!);
      if (/\s/u.test(symbol)) whitespace.fill(1, offset, offset + size);
      for (let k = 0; k < symbol.length; k++) byteOfCharacter.push(offset);
      characterOfByte.fill(character, offset, offset + size);
      character += symbol.length;
      offset += size;
    }
    position += chunk.length;
  });
  characterOfByte[length] = character;
  byteOfCharacter.push(length);
  const normalized = units.map((entry) => entry.text).join('');

  const matches = (at: number, candidate: Uint8Array) => {
    if (candidate.length === 0 || at + candidate.length > length) return false;
    for (let k = 0; k < candidate.length; k++) if (bytes[at + k] !== candidate[k]) return false;
    return true;
  };
  return {
    length,
    normalized,
    start,
    unit,
    matches,
    search(from, candidate, within) {
      const last = Math.min(length - candidate.length, from + within);
      for (let at = from; at <= last; at++) if (matches(at, candidate)) return at;
      return undefined;
    },
    skipWhitespace(at) {
      while (at < length && whitespace[at]) at++;
      return at;
    },
    trimTrailingWhitespace(from, to) {
      while (to > from && whitespace[to - 1]) to--;
      return to;
    },
    characterIndex: (byte) => characterOfByte[Math.min(byte, length)],
    byteIndex: (index) => byteOfCharacter[Math.min(index, byteOfCharacter.length - 1)],
    firstByteFrom(originalPosition, notBefore) {
      let at = notBefore;
      while (at < length && start[at] < originalPosition) at++;
      return at;
    },
  };
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
  while (trimmedStart < trimmedEnd && /\s/u.test(text[trimmedStart])) trimmedStart++;
  while (trimmedEnd > trimmedStart && /\s/u.test(text[trimmedEnd - 1])) trimmedEnd--;
  return trimmedStart < trimmedEnd ? [trimmedStart, trimmedEnd] : [start, end];
}

function utf8Length(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
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
