/** Limits a function sets on its requests. Unset ones fall back to the task's defaults. */
export interface FunctionLimits {
  /** Largest request body, in bytes. */
  maxBodyBytes?: number;
  /** Most texts in one request's `inputs` array. */
  maxInputs?: number;
  /** Most tokens in one input, after tokenization. */
  maxInputTokens?: number;
  /** Ceiling on `max_new_tokens` for generation. */
  maxNewTokens?: number;
  /**
   * Most sentences in one document for an extractive summarizer, whose model attends across every sentence: its
   * memory grows with the square of this (0 where a task has no sentences).
   */
  maxSentences?: number;
}
