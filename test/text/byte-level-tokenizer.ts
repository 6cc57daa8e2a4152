/**
 * A small RoBERTa-style byte-level BPE tokenizer.json built in memory, for tests that must not depend on the
 * generated tiny models being there. Every byte is in the vocabulary, so any text encodes without <unk>; the
 * merges spell out a few whole words so that tokens span several characters.
 */

const BYTE_TO_UNICODE: string[] = (() => {
  const printable: number[] = [];
  for (let byte = 0x21; byte <= 0x7e; byte++) printable.push(byte);
  for (let byte = 0xa1; byte <= 0xac; byte++) printable.push(byte);
  for (let byte = 0xae; byte <= 0xff; byte++) printable.push(byte);
  const table: string[] = [];
  for (const byte of printable) table[byte] = String.fromCharCode(byte);
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) if (table[byte] === undefined) table[byte] = String.fromCharCode(256 + shifted++);
  return table;
})();

/** The byte-level spelling of a text: "Ġworld" for " world", one symbol per UTF-8 byte. */
export function toByteLevel(text: string): string {
  return Array.from(new TextEncoder().encode(text), (byte) => BYTE_TO_UNICODE[byte]).join('');
}

const WORDS = [
  ' the', ' world', 'Hello', ' hello', 'ing', ' Paris', ' London', ' café', ' naïve', ' New', ' York', ' Angela', ' Merkel',
  ' met', ' in', ' on', ' and', 'er', ' 中国', ' 😀', '😀', ' Apple', ' Inc', '.', ' engine', 'ers',
];

export function createByteLevelTokenizerJson(options: { addPrefixSpace?: boolean } = {}): object {
  const special = ['<s>', '<pad>', '</s>', '<unk>', '<mask>'];
  const vocab: Record<string, number> = {};
  const add = (token: string) => {
    if (!(token in vocab)) vocab[token] = Object.keys(vocab).length;
  };
  special.forEach(add);
  BYTE_TO_UNICODE.forEach(add);
  const merges: string[] = [];
  for (const word of WORDS) {
    const symbols = [...toByteLevel(word)];
    let merged = symbols[0];
    for (const symbol of symbols.slice(1)) {
      const pair = `${merged} ${symbol}`;
      if (!merges.includes(pair)) merges.push(pair);
      merged += symbol;
      add(merged);
    }
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: content === '<mask>',
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: options.addPrefixSpace ?? false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}
