import type { ConstraintSource } from './token-constraint.ts';

/** What a caller may ask of one generation. Unset fields fall back to the model's generation_config.json. */
export interface GenerationOptions {
  maxNewTokens?: number;
  /** End-of-sequence is not chosen before this many new tokens (Hugging Face `min_new_tokens`). */
  minNewTokens?: number;
  /** Sample from the distribution instead of taking the most likely token. */
  doSample?: boolean;
  temperature?: number;
  /** Keep only the k most likely tokens; 0 keeps all. */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p; 1 keeps all. */
  topP?: number;
  /** Hugging Face's repetition penalty: 1 is none, above 1 discourages tokens already in the sequence. */
  repetitionPenalty?: number;
  /** OpenAI's frequency penalty: subtracted from a token's score once per time it was generated already (0: none). */
  frequencyPenalty?: number;
  /** OpenAI's presence penalty: subtracted once from the score of every token generated already (0: none). */
  presencePenalty?: number;
  /**
   * Give each token event the log-probabilities of this many most likely tokens of its step (0-20), and its own,
   * all under the model's distribution before any penalty or sampling transform (as vLLM reports them).
   */
  topLogprobs?: number;
  /** Makes sampling reproducible. */
  seed?: number;
  /** Generation ends when one of these appears; the answer ends just before it. */
  stop?: readonly string[];
  /** Overrides the end-of-sequence ids of generation_config.json. */
  eosTokenIds?: readonly number[];
  /** Put the prompt in front of the answer's text (decoder-only models). */
  returnFullText?: boolean;
  /** Reuse the key/value cache between steps. Off re-runs the whole sequence at every step (a reference for tests). */
  useCache?: boolean;
  /** Constrain the answer to a grammar (a JSON Schema compiled by `compileJsonSchema`); its mask runs before sampling. */
  grammar?: ConstraintSource;
}

/** Every choice made, after request, model defaults and built-in defaults were merged. */
export interface ResolvedGenerationOptions {
  maxNewTokens: number;
  minNewTokens: number;
  sampling: boolean;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  frequencyPenalty: number;
  presencePenalty: number;
  topLogprobs: number | undefined;
  seed: number | undefined;
  stop: string[];
  eosTokenIds: number[];
  returnFullText: boolean;
  useCache: boolean;
  grammar: ConstraintSource | undefined;
}

/** Model defaults, read from generation_config.json and config.json. */
export interface GenerationDefaults {
  maxNewTokens: number;
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  eosTokenIds: number[];
}

export const DEFAULT_MAX_NEW_TOKENS = 64;

function readNumber(source: Record<string, unknown> | undefined, key: string): number | undefined {
  const value = source?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `eos_token_id` may be one id or a list of them. */
export function readTokenIds(value: unknown): number[] | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return [value];
  if (Array.isArray(value)) {
    const ids = value.filter((id): id is number => typeof id === 'number' && Number.isInteger(id));
    return ids.length > 0 ? ids : undefined;
  }
  return undefined;
}

export function readGenerationDefaults(
  generationConfig: Record<string, unknown> | undefined,
  modelConfig: Record<string, unknown>,
  tokenizerEosId: number | undefined,
): GenerationDefaults {
  const eosTokenIds =
    readTokenIds(generationConfig?.eos_token_id) ??
    readTokenIds(modelConfig.eos_token_id) ??
    (tokenizerEosId === undefined ? [] : [tokenizerEosId]);
  return {
    maxNewTokens: readNumber(generationConfig, 'max_new_tokens') ?? DEFAULT_MAX_NEW_TOKENS,
    doSample: generationConfig?.do_sample === true,
    temperature: readNumber(generationConfig, 'temperature') ?? 1,
    // As in text-generation-inference, no top-k unless the model or the request asks (transformers would use 50).
    topK: readNumber(generationConfig, 'top_k') ?? 0,
    topP: readNumber(generationConfig, 'top_p') ?? 1,
    repetitionPenalty: readNumber(generationConfig, 'repetition_penalty') ?? 1,
    eosTokenIds,
  };
}

/**
 * Merges a request over the model's defaults. As in text-generation-inference, asking for a temperature,
 * top-k or top-p implies sampling unless `doSample` says otherwise; a temperature of 0 means greedy.
 */
export function resolveGenerationOptions(options: GenerationOptions, defaults: GenerationDefaults): ResolvedGenerationOptions {
  const asksForWarping =
    (options.temperature !== undefined && options.temperature !== 1) ||
    (options.topK !== undefined && options.topK !== 0) ||
    (options.topP !== undefined && options.topP !== 1);
  const temperature = options.temperature ?? defaults.temperature;
  const sampling = (options.doSample ?? (asksForWarping || defaults.doSample)) && temperature > 0;
  return {
    maxNewTokens: options.maxNewTokens ?? defaults.maxNewTokens,
    minNewTokens: options.minNewTokens ?? 0,
    sampling,
    temperature: sampling ? temperature : 1,
    topK: options.topK ?? defaults.topK,
    topP: options.topP ?? defaults.topP,
    repetitionPenalty: options.repetitionPenalty ?? defaults.repetitionPenalty,
    frequencyPenalty: options.frequencyPenalty ?? 0,
    presencePenalty: options.presencePenalty ?? 0,
    topLogprobs: options.topLogprobs,
    seed: options.seed,
    stop: (options.stop ?? []).filter((stop) => stop.length > 0),
    eosTokenIds: [...(options.eosTokenIds ?? defaults.eosTokenIds)],
    returnFullText: options.returnFullText ?? false,
    useCache: options.useCache ?? true,
    grammar: options.grammar,
  };
}
