/** A tokenizer.json component: a normalizer, pre-tokenizer, post-processor, decoder or model. */
export type TokenizerComponent = Record<string, unknown> & { type?: string };

/** The parts of a tokenizer.json that honnx reads itself, beside the library. */
export interface TokenizerJson {
  normalizer?: TokenizerComponent | null;
  pre_tokenizer?: TokenizerComponent | null;
  post_processor?: TokenizerComponent | null;
  decoder?: TokenizerComponent | null;
  model?: TokenizerComponent & { vocab?: unknown };
  added_tokens?: { content: string; special?: boolean }[];
  truncation?: unknown;
  padding?: unknown;
}
