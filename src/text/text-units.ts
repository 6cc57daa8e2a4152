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
import type { TokenizerComponent } from './tokenizer-json.ts';

/*
 * Text as units, for token offsets: one unit per code point of the original text, rewritten by the tokenizer's
 * normalizer and pre-tokenizer the way the library rewrites the text, each unit keeping the span of the original
 * it came from.
 */

/** A piece of normalized text and the span [start, end) of the original text it stands for. */
export interface Unit {
  text: string;
  start: number;
  end: number;
}

/** SentencePiece's space marker, the default of the Metaspace pre-tokenizer. */
export const SPACE_MARKER = '\u2581';

/** A component and, for a Sequence, the components inside it, depth first. */
export function flatten(config: TokenizerComponent | null | undefined, listKey: string): TokenizerComponent[] {
  if (!config) return [];
  const children = config[listKey];
  if (config.type === 'Sequence' && Array.isArray(children)) return children.flatMap((child) => flatten(child as TokenizerComponent, listKey));
  return [config];
}

export function splitIntoCodePoints(text: string): Unit[] {
  const units: Unit[] = [];
  for (let index = 0; index < text.length; ) {
    const codePoint = text.codePointAt(index)!;
    const length = codePoint > 0xffff ? 2 : 1;
    units.push({ text: text.slice(index, index + length), start: index, end: index + length });
    index += length;
  }
  return units;
}

export type UnitRewrite = (units: Unit[]) => Unit[];

/** Applies a tokenizer.json normalizer to units, keeping each unit's original span. */
export function createUnitNormalizer(config: TokenizerComponent | null): UnitRewrite {
  if (!config) return (units) => units;
  switch (config.type) {
    case 'Sequence': {
      const steps = ((config.normalizers as TokenizerComponent[] | undefined) ?? []).map((child) => createUnitNormalizer(child));
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
function createLibraryNormalizer(config: TokenizerComponent): Normalizer | undefined {
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
export function createPreTokenizerRewrite(config: TokenizerComponent): UnitRewrite {
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
