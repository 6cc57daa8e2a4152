/**
 * fastText supervised-model features: word rows plus hashed character n-gram rows, as fastText's
 * Dictionary::getLine computes them. The language-id model is not tokenized the Hugging Face way, so it
 * ships `fasttext_featurizer.json` (its words, n-gram bucket map and sizes) instead of a tokenizer.json.
 */
export interface FastTextFeaturizerSpec {
  type: 'fasttext-supervised-featurizer';
  minn: number;
  maxn: number;
  bucket: number;
  nwords: number;
  words: string[];
  /** Hash bucket (as a decimal string) → retained n-gram row; n-grams pruned from the model are absent. */
  pruneidx: Record<string, number>;
}

export type Featurize = (text: string) => number[];

const FASTTEXT_WHITESPACE = /[ \n\r\t\v\f\0]+/;
const END_OF_SENTENCE_ROW = 0;

/** fastText's Dictionary::hash: FNV-1a over UTF-8 bytes, each byte sign-extended as a C `int8_t`. */
function hashBytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) {
    hash = (hash ^ ((byte << 24) >> 24)) >>> 0;
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return hash;
}

const isContinuationByte = (byte: number) => (byte & 0xc0) === 0x80;

export function createFastTextFeaturizer(spec: FastTextFeaturizerSpec): Featurize {
  const wordRows = new Map(spec.words.map((word, row) => [word, row]));
  const ngramRows = new Map(Object.entries(spec.pruneidx).map(([bucket, row]) => [Number(bucket), row]));
  const utf8 = new TextEncoder();

  // Character n-grams of "<word>", counted in characters (not bytes), n in [minn, maxn].
  const pushNgramRows = (word: string, rows: number[]) => {
    const bytes = utf8.encode(`<${word}>`);
    for (let start = 0; start < bytes.length; start++) {
      if (isContinuationByte(bytes[start])) continue;
      let end = start;
      for (let length = 1; end < bytes.length && length <= spec.maxn; length++) {
        end++;
        while (end < bytes.length && isContinuationByte(bytes[end])) end++;
        // fastText skips the lone "<" and ">" unigrams.
        const isBoundaryUnigram = length === 1 && (start === 0 || end === bytes.length);
        if (length >= spec.minn && !isBoundaryUnigram) {
          const row = ngramRows.get(hashBytes(bytes.subarray(start, end)) % spec.bucket);
          if (row !== undefined) rows.push(spec.nwords + row);
        }
      }
    }
  };

  return (text) => {
    const rows: number[] = [];
    for (const word of text.split(FASTTEXT_WHITESPACE)) {
      if (!word) continue;
      const wordRow = wordRows.get(word);
      if (wordRow !== undefined) rows.push(wordRow);
      pushNgramRows(word, rows);
    }
    rows.push(END_OF_SENTENCE_ROW);
    return rows;
  };
}
