import type { TokenizerComponent, TokenizerJson } from './tokenizer-json.ts';

/**
 * What each token id stands for in generated text, as bytes: what a constraint engine (a JSON grammar) matches
 * tokens against. Bytes, not strings, because a byte-level token may hold part of a character.
 */
export interface TokenBytes {
  /** One past the largest id the tokenizer knows (a model's logits may be wider; ids beyond have no text). */
  readonly size: number;
  /** The token's bytes; undefined for special tokens (`<|endoftext|>`, `</s>`), which stand for no text. */
  bytesOf(id: number): Uint8Array | undefined;
  /** The same bytes read as UTF-8 (a partial character becomes U+FFFD). */
  textOf(id: number): string | undefined;
}

/** GPT-2's byte-level alphabet: printable Latin-1 bytes stand for themselves, the other bytes for U+0100 onwards. */
function readByteLevelAlphabet(): Map<string, number> {
  const printable = (byte: number) => (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || (byte >= 174 && byte <= 255);
  const alphabet = new Map<string, number>();
  let next = 256;
  for (let byte = 0; byte < 256; byte++) alphabet.set(String.fromCharCode(printable(byte) ? byte : next++), byte);
  return alphabet;
}

/** The decoder and its parts (a `Sequence` lists several). */
function decoderSteps(decoder: TokenizerComponent | null | undefined): TokenizerComponent[] {
  if (!decoder) return [];
  if (decoder.type === 'Sequence' && Array.isArray(decoder.decoders)) return decoder.decoders as TokenizerComponent[];
  return [decoder];
}

function readVocabulary(tokenizerJson: TokenizerJson): string[] {
  const tokens: string[] = [];
  const vocab = tokenizerJson.model?.vocab;
  if (Array.isArray(vocab)) vocab.forEach((entry, id) => (tokens[id] = Array.isArray(entry) ? String(entry[0]) : String(entry)));
  else if (vocab && typeof vocab === 'object') for (const [token, id] of Object.entries(vocab)) tokens[Number(id)] = token;
  return tokens;
}

/**
 * Reads each token's bytes from tokenizer.json the way its decoder would write them: byte-level BPE through GPT-2's
 * byte alphabet; SentencePiece-style vocabularies with "▁" for a space and `<0xNN>` byte pieces. The decoder's
 * `Strip` of the text's first space is left out: it belongs to a whole text, not to a token.
 */
export function readTokenBytes(tokenizerJson: TokenizerJson): TokenBytes {
  const tokens = readVocabulary(tokenizerJson);
  const addedIds = new Map<number, { content: string; special: boolean }>();
  for (const added of (tokenizerJson.added_tokens ?? []) as { id?: number; content: string; special?: boolean }[]) {
    if (typeof added.id === 'number') {
      addedIds.set(added.id, { content: added.content, special: added.special === true });
      tokens[added.id] ??= added.content;
    }
  }
  const steps = decoderSteps(tokenizerJson.decoder);
  const byteLevel = steps.some((step) => step.type === 'ByteLevel');
  const byteFallback = steps.some((step) => step.type === 'ByteFallback');
  const metaspace = steps.find((step) => step.type === 'Metaspace');
  const replacements = steps
    .filter((step) => step.type === 'Replace')
    .map((step) => [(step.pattern as { String?: string } | undefined)?.String, String(step.content ?? '')] as const)
    .filter((pair): pair is readonly [string, string] => typeof pair[0] === 'string');
  if (metaspace) replacements.push([String(metaspace.replacement ?? '\u2581'), ' ']);
  const alphabet = byteLevel ? readByteLevelAlphabet() : undefined;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const cache: (Uint8Array | null | undefined)[] = new Array(tokens.length);

  const compute = (id: number): Uint8Array | null => {
    const token = tokens[id];
    const added = addedIds.get(id);
    if (token === undefined || added?.special) return null;
    if (added) return encoder.encode(added.content);
    if (alphabet) return Uint8Array.from([...token], (character) => alphabet.get(character) ?? 0x3f);
    const bytePiece = byteFallback ? /^<0x([0-9A-Fa-f]{2})>$/.exec(token) : null;
    if (bytePiece) return Uint8Array.of(parseInt(bytePiece[1], 16));
    let text = token;
    for (const [pattern, content] of replacements) text = text.split(pattern).join(content);
    return encoder.encode(text);
  };

  const bytesOf = (id: number): Uint8Array | undefined => {
    if (id < 0 || id >= tokens.length) return undefined;
    let bytes = cache[id];
    if (bytes === undefined) bytes = cache[id] = compute(id);
    return bytes ?? undefined;
  };
  return {
    size: tokens.length,
    bytesOf,
    textOf(id) {
      const bytes = bytesOf(id);
      return bytes && decoder.decode(bytes);
    },
  };
}
