import { BertNormalizer, Tokenizer, WordPiece } from '@huggingface/tokenizers';
import { memoize } from './memoize.ts';
import type { Offset } from './offset.ts';
import { PRINTABLE_ASCII } from './printable-ascii-offsets.ts';
import { createPrintableAsciiWordPiece } from './printable-ascii-wordpiece.ts';
import { readCharactersPerToken } from './characters-per-token.ts';
import { readTokenBytes, type TokenBytes } from './token-bytes.ts';
import { computeTokenOffsets } from './token-offsets.ts';
import type { TokenizerJson } from './tokenizer-json.ts';

export type { Offset } from './offset.ts';

/** A text's tokens and their ids. */
export interface Encoded {
  ids: number[];
  tokens: string[];
}

/** A text's tokens and ids with where each token came from in the text. */
export interface EncodedWithOffsets extends Encoded {
  /** Character offsets into the original text; `text.slice(start, end)` is the token's surface. Special tokens get [0, 0]. */
  offsets: Offset[];
  /** True for special tokens such as [CLS], [SEP], <s>; false for the unknown token, which stands for text. */
  special: boolean[];
}

/** Ids of a tokenizer's special tokens, where it has them. */
export interface SpecialTokenIds {
  pad?: number;
  unk?: number;
  bos?: number;
  eos?: number;
  cls?: number;
  sep?: number;
}

/** A Hugging Face tokenizer with what honnx needs on top: offsets, special ids and limits from the config files. */
export interface TextTokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): Encoded;
  encodeWithOffsets(text: string): EncodedWithOffsets;
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Each id's bytes in generated text, for constraint engines; read from tokenizer.json on first use. */
  tokenBytes(): TokenBytes;
  /**
   * The most characters of text one token stands for (`readCharactersPerToken`): a text longer than n times this
   * is over n tokens, known without tokenizing it. Read from tokenizer.json on first use.
   */
  charactersPerToken(): number;
  readonly specialIds: SpecialTokenIds;
  /** The longest sequence the model accepts, special tokens included (tokenizer_config `model_max_length`). */
  readonly modelMaxLength: number;
  readonly chatTemplate?: string;
  readonly config: Readonly<Record<string, unknown>>;
}

/** A model's `tokenizer_config.json`: special tokens, chat template, length; read as given. */
export type TokenizerConfig = Record<string, unknown>;

/** tokenizer_config stores a special token as a string or as an AddedToken object. */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

// Hugging Face writes a huge sentinel (1e30) when a tokenizer has no limit of its own.
const UNLIMITED = 1e15;

/**
 * The library's WordPiece splits every word again on every call, building candidate substrings one by one: on
 * short texts that is a fifth of the tokenizer's time. A word always splits the same way (the model splits words
 * one at a time, with no state between them), so the pieces of each word are remembered, as the library's BPE
 * already does for its words.
 */
function rememberWordPieces(model: WordPiece): void {
  const splitWords = model.encode.bind(model);
  // memoize's default bound: 50,000 distinct words, a few MB at most, emptied when full.
  const piecesOf = memoize((word) => splitWords([word]));
  model.encode = (words: string[]) => {
    const output: string[] = [];
    for (const word of words) for (const piece of piecesOf(word)) output.push(piece);
    return output;
  };
}

/**
 * The library's BERT normalizer sends every character through Unicode-property regular expressions (control
 * characters, whitespace) and the text through NFD: a third of a short English text's tokenization. A text of
 * printable ASCII has nothing to remove, no CJK characters and no accents, so it comes out unchanged but for the
 * lowercasing; only other texts take the library's way.
 */
function skipNormalizingPrintableAscii(normalizer: BertNormalizer): void {
  const normalize = normalizer.normalize.bind(normalizer);
  const lowercase = (normalizer.config as { lowercase?: unknown }).lowercase === true;
  normalizer.normalize = (text: string) => (PRINTABLE_ASCII.test(text) ? (lowercase ? text.toLowerCase() : text) : normalize(text));
}

/** Makes a tokenizer from a model's `tokenizer.json`, `tokenizer_config.json` and `config.json`. */
export function createTokenizer(tokenizerJson: object, tokenizerConfig: TokenizerConfig = {}, modelConfig: Record<string, unknown> = {}): TextTokenizer {
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  // Made before the library's WordPiece is given its word cache: the shortcut keeps words (with ids) of its own.
  const shortcut = createPrintableAsciiWordPiece(tokenizer, tokenizerJson);
  if (tokenizer.model instanceof WordPiece) rememberWordPieces(tokenizer.model);
  if (tokenizer.normalizer instanceof BertNormalizer) skipNormalizingPrintableAscii(tokenizer.normalizer);
  const idOf = (key: string) => {
    const content = tokenContent(tokenizerConfig[key]);
    return content === undefined ? undefined : tokenizer.token_to_id(content);
  };
  const configId = (key: string) => (typeof modelConfig[key] === 'number' ? (modelConfig[key] as number) : undefined);
  const specialIds: SpecialTokenIds = {
    pad: idOf('pad_token') ?? configId('pad_token_id'),
    unk: idOf('unk_token'),
    bos: idOf('bos_token') ?? configId('bos_token_id'),
    eos: idOf('eos_token') ?? configId('eos_token_id'),
    cls: idOf('cls_token'),
    sep: idOf('sep_token'),
  };
  const configured = Number(tokenizerConfig.model_max_length);
  const positions = Number(modelConfig.max_position_embeddings);
  const modelMaxLength =
    Number.isFinite(configured) && configured > 0 && configured < UNLIMITED
      ? configured
      : Number.isFinite(positions) && positions > 0
        ? positions
        : 512;
  // The unknown token is listed as special, but it stands for real text, so it keeps an offset.
  const specialIdSet = new Set(
    [...tokenizer.get_added_tokens_decoder().entries()]
      .filter(([id, token]) => token.special && id !== specialIds.unk)
      .map(([id]) => id),
  );

  const encode = (text: string, options: { addSpecialTokens?: boolean } = {}): Encoded => {
    const addSpecialTokens = options.addSpecialTokens ?? true;
    const quick = shortcut?.(text, addSpecialTokens);
    if (quick) return quick;
    const { ids, tokens } = tokenizer.encode(text, { add_special_tokens: addSpecialTokens });
    return { ids, tokens };
  };

  let tokenBytes: TokenBytes | undefined;
  let charactersPerToken: number | undefined;
  return {
    encode,
    encodeWithOffsets(text) {
      const { ids, tokens } = encode(text);
      const special = ids.map((id) => specialIdSet.has(id));
      return { ids, tokens, special, offsets: computeTokenOffsets(text, tokens, special, tokenizerJson) };
    },
    decode: (ids, options = {}) => tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? true }),
    tokenToId: (token) => tokenizer.token_to_id(token),
    idToToken: (id) => tokenizer.id_to_token(id),
    tokenBytes: () => (tokenBytes ??= readTokenBytes(tokenizerJson as TokenizerJson)),
    charactersPerToken: () => (charactersPerToken ??= readCharactersPerToken(tokenizerJson as TokenizerJson)),
    specialIds,
    modelMaxLength,
    chatTemplate: typeof tokenizerConfig.chat_template === 'string' ? tokenizerConfig.chat_template : undefined,
    config: tokenizerConfig,
  };
}
