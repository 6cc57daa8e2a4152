import { flatten, splitIntoCodePoints, type UnitRewrite } from './text-units.ts';
import type { TokenizerComponent } from './tokenizer-json.ts';
import type { Offset } from './offset.ts';
import { skipAsciiSpaces } from './whitespace.ts';

/** A text of printable ASCII characters only (space to tilde), what most English requests are. */
export const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;

/** What a tokenizer's normalizer does to printable ASCII: nothing, or lowercasing. */
export type AsciiNormalization = 'same' | 'lowercase';

/** Normalizers that map each character on its own, so 95 characters tell what they do to every ASCII text. */
const PER_CHARACTER_NORMALIZERS = new Set(['BertNormalizer', 'NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'StripAccents']);

/**
 * Whether this tokenizer's normalizer and pre-tokenizer leave every printable ASCII character as it is ("same") or
 * lowercase it ("lowercase"), found by rewriting all 95 of them as units (Metaspace's "▁" or a prepended unit shows
 * there); undefined for anything else. Replacements are refused outright: a pattern may span characters, which
 * single characters cannot show; so is a SentencePiece character map.
 */
export function detectAsciiNormalization(
  normalizer: TokenizerComponent | null | undefined,
  preTokenizers: TokenizerComponent[],
  normalize: UnitRewrite,
  preTokenizerRewrites: UnitRewrite[],
): AsciiNormalization | undefined {
  const normalizers = flatten(normalizer, 'normalizers');
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

export interface PrintableAsciiAlignerOptions {
  normalization: AsciiNormalization;
  subwordPrefix: string | undefined;
  unkToken: string | undefined;
  addedTokens: ReadonlySet<string>;
}

/**
 * Printable ASCII that the normalizer leaves alone (or only lowercases) is the text the model split, character
 * for character: each token is then found by comparing strings, with no units or bytes built. Anything this does
 * not cover (an unknown token, an added token written in the text, a token not found where expected) returns
 * undefined, and the text takes the general way. Only for tokenizers without byte-level symbols, byte pieces or
 * word suffixes: what their tokens stand for is then the token itself, less the subword prefix.
 */
export function createPrintableAsciiAligner({ normalization, subwordPrefix, unkToken, addedTokens }: PrintableAsciiAlignerOptions) {
  /** The text a token stands for, if it is printable ASCII without spaces; null otherwise. */
  const asciiTokenText = (token: string): string | null => {
    const surface = subwordPrefix && token.length > subwordPrefix.length && token.startsWith(subwordPrefix) ? token.slice(subwordPrefix.length) : token;
    if (surface.length === 0) return null;
    for (let index = 0; index < surface.length; index++) {
      const code = surface.charCodeAt(index);
      if (code <= 0x20 || code >= 0x7f) return null;
    }
    return surface;
  };

  return (text: string, tokens: string[], special: boolean[]): Offset[] | undefined => {
    const normalized = normalization === 'lowercase' ? text.toLowerCase() : text;
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
}
