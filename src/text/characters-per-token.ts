import { readTokenBytes } from './token-bytes.ts';
import type { TokenizerJson } from './tokenizer-json.ts';

/** WordPiece's default: a longer word is one unknown token. */
const WORDPIECE_WORD_CHARACTERS = 100;

/**
 * The most characters (UTF-16 code units, as `string.length` counts) of a text that one token stands for, plus
 * one for the whitespace a pre-tokenizer may drop before each token: a text longer than `tokens ×` this cannot be
 * that few tokens, so it can be refused before tokenizing it, which costs seconds for a few hundred kilobytes.
 * A token's bytes bound its characters (no character takes fewer UTF-8 bytes than UTF-16 units). WordPiece gives
 * one unknown token for a whole word of up to `max_input_chars_per_word` characters. Only a text made mostly of
 * runs of whitespace (which BERT-style tokenizers drop) has more characters per token.
 */
export function readCharactersPerToken(tokenizerJson: TokenizerJson): number {
  const model = tokenizerJson.model;
  let longest = 1;
  for (const added of tokenizerJson.added_tokens ?? []) if (!added.special) longest = Math.max(longest, added.content.length);
  if (model?.type === 'WordPiece') {
    const perWord = typeof model.max_input_chars_per_word === 'number' ? model.max_input_chars_per_word : WORDPIECE_WORD_CHARACTERS;
    const vocab = model.vocab && typeof model.vocab === 'object' ? Object.keys(model.vocab) : [];
    for (const token of vocab) longest = Math.max(longest, token.length);
    return Math.max(longest, perWord) + 1;
  }
  const bytes = readTokenBytes(tokenizerJson);
  for (let id = 0; id < bytes.size; id++) longest = Math.max(longest, bytes.bytesOf(id)?.length ?? 0);
  return longest + 1;
}
