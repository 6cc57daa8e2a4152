import type { Context } from 'hono';
import type { FunctionHost } from '../../../serving/function-host.ts';
import { isAsyncIterable } from '../../../common/is-async-iterable.ts';
import type { GenerateStreamEvent, GeneratedToken } from '../../../endpoints/generate-endpoint.ts';
import { respondJson } from '../../respond-json.ts';
import type { SurfaceContext } from '../api-surface.ts';
import { readOpenAiRequest } from './find-function.ts';
import { isHiddenToken, readGenerateAnswer, toFinishReason, toGenerateParameters, toUsage, visibleTokens, type OpenAiUsage } from './generation-call.ts';
import { RequestFieldError } from './openai-errors.ts';
import { completionRequestSchema, parseOpenAiRequest, type CompletionRequest } from './openai-requests.ts';
import { createCompletionId, respondOpenAiStream, unixSeconds } from './openai-stream.ts';
import { submitToFunction } from './submit-to-function.ts';

const GENERATE_TASKS = ['generate'];

/** Each prompt of a list is queued as a request of its own (the function's queue bound applies to each). */
const MAX_PROMPTS = 16;

/** The legacy API's log-probabilities of one choice: parallel lists, and each step's alternatives as `{token: logprob}`. */
interface LegacyLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

function toLegacyLogprobs(entries: readonly { token: GeneratedToken; top: readonly GeneratedToken[] }[], textStart: number, into?: LegacyLogprobs): LegacyLogprobs {
  const logprobs = into ?? { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = textStart;
  for (const { token, top } of entries) {
    logprobs.tokens.push(token.text);
    logprobs.token_logprobs.push(token.logprob);
    logprobs.top_logprobs.push(Object.fromEntries(top.map((entry) => [entry.text, entry.logprob])));
    logprobs.text_offset.push(offset);
    offset += token.text.length;
  }
  return logprobs;
}

function readPrompts(request: CompletionRequest): string[] {
  const prompt: unknown = request.prompt;
  if (typeof prompt === 'string') return [prompt];
  const prompts = prompt as unknown[];
  if (prompts.length === 0 || !prompts.every((entry) => typeof entry === 'string')) {
    throw new RequestFieldError('prompt', 'prompt must be a string or a list of strings; token-id prompts are not supported', 'unsupported_value');
  }
  return prompts as string[];
}

function refuseUnsupported(request: CompletionRequest, prompts: readonly string[]): void {
  if (request.suffix != null && request.suffix !== '') throw new RequestFieldError('suffix', 'suffix (fill in the middle) is not supported', 'unsupported_parameter');
  if (request.best_of != null && request.best_of !== 1) throw new RequestFieldError('best_of', 'best_of must be 1', 'unsupported_value');
  if (request.echo === true && request.logprobs != null) {
    throw new RequestFieldError('logprobs', "logprobs with echo would need the prompt's own log-probabilities, which this server does not compute", 'unsupported_value');
  }
  if (request.stream === true && prompts.length > 1) {
    throw new RequestFieldError('prompt', 'a streamed completion takes one prompt; send a request per prompt', 'unsupported_value');
  }
}

interface CompletionSettings {
  id: string;
  created: number;
  model: string;
  withLogprobs: boolean;
  includeUsage: boolean;
  echo: string | undefined;
}

async function* toCompletionChunks(events: AsyncIterable<unknown>, settings: CompletionSettings): AsyncGenerator<unknown> {
  const { id, created, model, withLogprobs, includeUsage, echo } = settings;
  const chunk = (text: string, finishReason: string | null, logprobs: LegacyLogprobs | null = null) => ({
    id,
    object: 'text_completion',
    created,
    model,
    choices: [{ index: 0, text, logprobs, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });
  if (echo) yield chunk(echo, null);
  let last: GenerateStreamEvent | undefined;
  let offset = echo?.length ?? 0;
  for await (const item of events) {
    const event = item as GenerateStreamEvent;
    last = event;
    if (isHiddenToken(event.token)) continue;
    const logprobs = withLogprobs ? toLegacyLogprobs([{ token: event.token, top: event.top_tokens ?? [] }], offset) : null;
    offset += event.token.text.length;
    if (event.token.text !== '' || logprobs) yield chunk(event.token.text, null, logprobs);
  }
  yield chunk('', toFinishReason(last?.details));
  if (includeUsage) yield { id, object: 'text_completion', created, model, choices: [], usage: toUsage(last?.details) };
}

/** `POST /v1/completions`: each prompt continued by the generate function its `model` names, one choice per prompt. */
export async function answerCompletion(c: Context, surface: SurfaceContext): Promise<Response> {
  const read = await readOpenAiRequest(c, surface, GENERATE_TASKS, '{"model": "...", "prompt": "..."}');
  if ('refused' in read) return read.refused;
  const host: FunctionHost = read.host;
  const request = parseOpenAiRequest(completionRequestSchema, read.body);
  const prompts = readPrompts(request);
  refuseUnsupported(request, prompts);
  if (prompts.length > MAX_PROMPTS) {
    throw new RequestFieldError('prompt', `${prompts.length} prompts, over this route's limit of ${MAX_PROMPTS}`, 'too_many_inputs', 413);
  }
  const topLogprobs = request.logprobs ?? undefined;
  const parameters = toGenerateParameters(request, request.max_tokens, topLogprobs);
  const stream = request.stream === true;
  const settings: CompletionSettings = {
    id: createCompletionId('cmpl'),
    created: unixSeconds(),
    model: request.model,
    withLogprobs: topLogprobs !== undefined,
    includeUsage: request.stream_options?.include_usage === true,
    echo: request.echo === true ? prompts[0] : undefined,
  };
  if (stream) {
    const answer = await submitToFunction(c, host, { inputs: prompts[0], parameters, stream: true });
    if (isAsyncIterable(answer)) return respondOpenAiStream(c, host, toCompletionChunks(answer, settings));
  }
  // Several prompts go through the function's queue side by side, so they batch as concurrent requests would.
  const answers = await Promise.all(prompts.map((prompt) => submitToFunction(c, host, { inputs: prompt, parameters, stream: false })));
  const usage: OpenAiUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  const choices = answers.map((answer, index) => {
    const { generated_text: generated, details } = readGenerateAnswer(answer);
    const counted = toUsage(details);
    usage.prompt_tokens += counted.prompt_tokens;
    usage.completion_tokens += counted.completion_tokens;
    usage.total_tokens += counted.total_tokens;
    const echoed = request.echo === true ? prompts[index] : '';
    const logprobs = topLogprobs === undefined ? null : toLegacyLogprobs(visibleTokens(details), echoed.length);
    return { index, text: echoed + generated, logprobs, finish_reason: toFinishReason(details) };
  });
  return respondJson(c, { id: settings.id, object: 'text_completion', created: settings.created, model: request.model, choices, usage });
}
