import { ByteStream } from './byte-stream.ts';
import { memoize } from './memoize.ts';
import { createPrintableAsciiAligner, detectAsciiNormalization, PRINTABLE_ASCII, type AsciiNormalization } from './printable-ascii-offsets.ts';
import { createPreTokenizerRewrite, createUnitNormalizer, flatten, SPACE_MARKER, splitIntoCodePoints, type Unit } from './text-units.ts';
import type { TokenizerComponent, TokenizerJson } from './tokenizer-json.ts';
import type { Offset } from './offset.ts';
import { isWhitespaceCharacter } from './whitespace.ts';

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
  readonly printableAscii: AsciiNormalization | undefined;
}

const alignerCache = new WeakMap<object, TokenAligner>();

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

  const asciiCase = printableAsciiShortcut && !byteLevel && !byteFallback && !wordSuffix ? detectAsciiNormalization(json.normalizer, preTokenizers, normalize, preTokenizerRewrites) : undefined;
  const alignPrintableAscii = asciiCase ? createPrintableAsciiAligner({ normalization: asciiCase, subwordPrefix, unkToken, addedTokens }) : undefined;
  const align = (text: string, tokens: string[], special: boolean[]) =>
    (alignPrintableAscii && PRINTABLE_ASCII.test(text) && alignPrintableAscii(text, tokens, special)) || alignUnits(text, tokens, special);
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

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function inferModelType(model: TokenizerComponent): string {
  if (model.continuing_subword_prefix === '##' && model.max_input_chars_per_word !== undefined) return 'WordPiece';
  if (Array.isArray(model.vocab)) return 'Unigram';
  return model.merges ? 'BPE' : 'WordPiece';
}

function readUnkToken(model: TokenizerComponent): string | undefined {
  if (typeof model.unk_token === 'string') return model.unk_token;
  if (typeof model.unk_id === 'number' && Array.isArray(model.vocab)) {
    const entry = model.vocab[model.unk_id];
    if (Array.isArray(entry) && typeof entry[0] === 'string') return entry[0];
  }
  return undefined;
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
