import type { Tokenizer } from '@huggingface/tokenizers';
import { memoize } from './memoize.ts';
import { PRINTABLE_ASCII } from './printable-ascii-offsets.ts';
import type { TokenizerJson } from './tokenizer-json.ts';

/** What `Tokenizer.encode` gives: token strings and their ids. */
export interface TokensAndIds {
  ids: number[];
  tokens: string[];
}

/** Encodes a text the way the library would, or says it cannot (undefined) and the library does it. */
export type ShortcutEncoder = (text: string, addSpecialTokens: boolean) => TokensAndIds | undefined;

/**
 * The library's BERT pipeline for printable ASCII, without its general machinery: a BertNormalizer changes such
 * text only by lowercasing (when set), the BertPreTokenizer splits it at spaces and makes each character other than
 * a letter or digit a word of its own, WordPiece splits each word (remembered per word, with its ids), and the
 * post-processor puts the same special tokens around every text. On a short English text this is most of the
 * tokenizer's time. Texts with other characters, or holding an added token's text ("[SEP]" typed in), return
 * undefined and take the library's way; tests check both ways agree.
 *
 * Returns undefined for tokenizers this does not describe (another model, normalizer, pre-tokenizer or
 * post-processor, or truncation and padding set in tokenizer.json).
 */
export function createPrintableAsciiWordPiece(tokenizer: Tokenizer, tokenizerJson: object): ShortcutEncoder | undefined {
  const json = tokenizerJson as TokenizerJson;
  const model = tokenizer.model;
  if (!model || json.model?.type !== 'WordPiece' || json.model.fuse_unk || json.pre_tokenizer?.type !== 'BertPreTokenizer') return undefined;
  if (json.normalizer && json.normalizer.type !== 'BertNormalizer') return undefined;
  if (json.post_processor && json.post_processor.type !== 'TemplateProcessing' && json.post_processor.type !== 'BertProcessing') return undefined;
  if (json.truncation || json.padding) return undefined;
  const lowercase = json.normalizer?.lowercase === true;

  const addedIds = new Map<string, number>();
  for (const [id, token] of tokenizer.get_added_tokens_decoder()) addedIds.set(token.content, id);
  const addedContents = [...addedIds.keys()];
  const idOf = (token: string) => (addedIds.get(token) ?? model.tokens_to_ids.get(token) ?? model.unk_token_id) as number;

  // The special tokens the post-processor puts around a text, read off the library's own encoding of one letter.
  const framed = tokenizer.encode('a', { add_special_tokens: true });
  const bare = tokenizer.encode('a', { add_special_tokens: false });
  const at = framed.tokens.indexOf(bare.tokens[0]);
  if (bare.tokens.length !== 1 || at < 0) return undefined;
  const prefix = { tokens: framed.tokens.slice(0, at), ids: framed.ids.slice(0, at) };
  const suffix = { tokens: framed.tokens.slice(at + 1), ids: framed.ids.slice(at + 1) };

  // The model's own split, taken now: each word is remembered here, with its ids, and nowhere else.
  const splitWords = model.encode.bind(model);
  const encodeWord = memoize((word: string): TokensAndIds => {
    const tokens = splitWords([word]);
    return { tokens, ids: tokens.map(idOf) };
  });

  return (text, addSpecialTokens) => {
    if (!PRINTABLE_ASCII.test(text)) return undefined;
    const normalized = lowercase ? text.toLowerCase() : text;
    // The library cuts added tokens out of the text, and out of the normalized text (those marked `normalized`).
    for (const content of addedContents) if (text.includes(content) || (normalized !== text && normalized.includes(content))) return undefined;
    const tokens: string[] = addSpecialTokens ? [...prefix.tokens] : [];
    const ids: number[] = addSpecialTokens ? [...prefix.ids] : [];
    const addWord = (word: string) => {
      const encoded = encodeWord(word);
      for (let index = 0; index < encoded.tokens.length; index++) {
        tokens.push(encoded.tokens[index]);
        ids.push(encoded.ids[index]);
      }
    };
    let wordStart = -1;
    for (let index = 0; index < normalized.length; index++) {
      const code = normalized.charCodeAt(index);
      if (isLetterOrDigit(code)) {
        if (wordStart < 0) wordStart = index;
        continue;
      }
      if (wordStart >= 0) addWord(normalized.slice(wordStart, index));
      wordStart = -1;
      // Anything else but a space is punctuation to BERT: a word of one character.
      if (code !== 0x20) addWord(normalized[index]);
    }
    if (wordStart >= 0) addWord(normalized.slice(wordStart));
    if (addSpecialTokens) {
      tokens.push(...suffix.tokens);
      ids.push(...suffix.ids);
    }
    return { tokens, ids };
  };
}

function isLetterOrDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}
