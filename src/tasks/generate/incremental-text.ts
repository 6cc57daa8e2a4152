import type { TextTokenizer } from '../../text/tokenizer.ts';

/** Tokens of context kept before the new ones, so that decoders which strip or merge spaces see their neighbours. */
const CONTEXT_TOKENS = 5;

const REPLACEMENT_CHARACTER = '\uFFFD';

/**
 * Turns tokens into text one at a time, the way text-generation-inference does: each token's text is the
 * difference between decoding a short window with and without it. Text that ends in U+FFFD is held back,
 * because byte-fallback and byte-level tokenizers spread one character over several tokens.
 */
export interface IncrementalTextDecoder {
  /** Adds one token and returns the text it completes (often "", or several characters at once). */
  push(id: number): string;
  /** Returns whatever is still held back, complete or not. */
  flush(): string;
}

/**
 * `contextIds` are the tokens already shown (the prompt); they are decoded only as context. `deferred`: nobody reads
 * the text token by token, so `push` only collects and `flush` decodes everything once (two decodes per token cost
 * about a twentieth of a small model's generation time).
 */
export function createIncrementalTextDecoder(tokenizer: TextTokenizer, contextIds: readonly number[], { deferred = false } = {}): IncrementalTextDecoder {
  const ids = [...contextIds];
  let prefixOffset = Math.max(0, ids.length - CONTEXT_TOKENS);
  let readOffset = ids.length;
  const pending = (final: boolean) => {
    const prefixText = tokenizer.decode(ids.slice(prefixOffset, readOffset));
    const text = tokenizer.decode(ids.slice(prefixOffset));
    if (text.length <= prefixText.length || (!final && text.endsWith(REPLACEMENT_CHARACTER))) return '';
    prefixOffset = readOffset;
    readOffset = ids.length;
    return text.slice(prefixText.length);
  };
  return {
    push(id) {
      ids.push(id);
      return deferred ? '' : pending(false);
    },
    flush: () => pending(true),
  };
}
