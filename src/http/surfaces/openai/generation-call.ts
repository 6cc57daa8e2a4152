import type { GenerateAnswer, GenerationDetails, GeneratedToken } from '../../../endpoints/generate-endpoint.ts';
import { RequestFieldError } from './openai-errors.ts';
import type { SharedSamplingFields } from './openai-requests.ts';

/** OpenAI's finish reasons: an end-of-sequence token and a stop string are both `stop`. */
export type OpenAiFinishReason = 'stop' | 'length';

export const toFinishReason = (details: GenerationDetails | null | undefined): OpenAiFinishReason =>
  details?.finish_reason === 'length' ? 'length' : 'stop';

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export const toUsage = (details: GenerationDetails | null | undefined): OpenAiUsage => {
  const prompt = details?.prompt_tokens ?? 0;
  const completion = details?.generated_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
};

/**
 * The generate function's parameters for an OpenAI request. OpenAI samples unless `temperature` is 0; a request
 * that sets neither temperature nor top_p follows the model's generation_config.json (greedy when it says nothing),
 * as vLLM does; `do_sample` (an extension) says so outright. The answer always carries its details, which give finish_reason and usage,
 * and its confidence.
 */
export function toGenerateParameters(request: SharedSamplingFields, maxTokens: number | null | undefined, topLogprobs: number | undefined): Record<string, unknown> {
  if (request.n !== undefined && request.n !== null && request.n !== 1) {
    throw new RequestFieldError('n', `n is ${request.n}: this server makes one choice per request; send several requests for more`, 'unsupported_value');
  }
  if (request.logit_bias && Object.keys(request.logit_bias).length > 0) {
    throw new RequestFieldError('logit_bias', 'logit_bias is not supported by this server', 'unsupported_parameter');
  }
  // The answer's confidence goes to the request's log line and honnx_answer_confidence (not into OpenAI's answer).
  const parameters: Record<string, unknown> = { details: true, return_full_text: false, return_confidence: true };
  if (maxTokens != null) parameters.max_new_tokens = maxTokens;
  const { temperature, top_p: topP } = request;
  if (temperature === 0) parameters.do_sample = false;
  else if (request.do_sample != null) parameters.do_sample = request.do_sample;
  else if (temperature != null || (topP != null && topP < 1)) parameters.do_sample = true;
  if (temperature != null && temperature > 0) parameters.temperature = temperature;
  if (topP != null) parameters.top_p = topP;
  if (request.seed != null) parameters.seed = request.seed;
  if (request.top_k != null) parameters.top_k = request.top_k;
  if (request.repetition_penalty != null) parameters.repetition_penalty = request.repetition_penalty;
  const stops = request.stop == null ? [] : (typeof request.stop === 'string' ? [request.stop] : request.stop).filter((stop) => stop.length > 0);
  if (stops.length > 0) parameters.stop = stops;
  if (request.frequency_penalty != null) parameters.frequency_penalty = request.frequency_penalty;
  if (request.presence_penalty != null) parameters.presence_penalty = request.presence_penalty;
  if (topLogprobs !== undefined) parameters.top_n_tokens = topLogprobs;
  return parameters;
}

/** A generated token that adds nothing a client sees: the closing end-of-sequence token, which OpenAI leaves out. */
export const isHiddenToken = (token: GeneratedToken): boolean => token.special && token.text === '';

/** The answer's tokens that made its text, each with its step's most likely tokens (`top_n_tokens`). */
export function visibleTokens(details: GenerationDetails | undefined): { token: GeneratedToken; top: GeneratedToken[] }[] {
  const tokens = details?.tokens ?? [];
  return tokens.map((token, index) => ({ token, top: details?.top_tokens?.[index] ?? [] })).filter(({ token }) => !isHiddenToken(token));
}

export function readGenerateAnswer(answer: unknown): GenerateAnswer {
  const [first] = answer as GenerateAnswer[];
  return first;
}
