import type { Context } from 'hono';
import type { ChatMessage } from '../../../text/chat-template.ts';
import type { FunctionHost } from '../../../serving/function-host.ts';
import { isAsyncIterable } from '../../../common/is-async-iterable.ts';
import type { GenerateStreamEvent, GeneratedToken } from '../../../endpoints/generate-endpoint.ts';
import { respondJson } from '../../respond-json.ts';
import type { SurfaceContext } from '../api-surface.ts';
import { readOpenAiRequest } from './find-function.ts';
import { isHiddenToken, readGenerateAnswer, toFinishReason, toGenerateParameters, toUsage, visibleTokens, type OpenAiFinishReason } from './generation-call.ts';
import { RequestFieldError } from './openai-errors.ts';
import { chatCompletionRequestSchema, parseOpenAiRequest, type ChatCompletionRequest } from './openai-requests.ts';
import { createCompletionId, respondOpenAiStream, unixSeconds } from './openai-stream.ts';
import { submitToFunction } from './submit-to-function.ts';

const GENERATE_TASKS = ['generate'];

/** OpenAI's newer name for the system role is `developer`; chat templates know `system`. */
const TEMPLATE_ROLES: Record<string, string> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant' };

/** The conversation as chat templates take it: plain-text contents, text parts joined. */
export function toChatMessages(messages: ChatCompletionRequest['messages']): ChatMessage[] {
  return messages.map((message, index) => {
    const role = TEMPLATE_ROLES[message.role];
    if (!role) throw new RequestFieldError(`messages[${index}].role`, `role "${message.role}" is not supported: this server calls no tools (roles: system, developer, user, assistant)`, 'unsupported_value');
    const { content } = message;
    if (content == null) return { role, content: '' };
    if (typeof content === 'string') return { role, content };
    const texts = content.map((part, partIndex) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw new RequestFieldError(`messages[${index}].content[${partIndex}].type`, `content parts of type "${part.type}" are not supported: only "text" parts`, 'unsupported_value');
      }
      return part.text;
    });
    return { role, content: texts.join('') };
  });
}

/** Fields whose values this server cannot honour: refused by name rather than ignored. */
function refuseUnsupported(request: ChatCompletionRequest): void {
  if (request.tools && request.tools.length > 0) throw new RequestFieldError('tools', 'tools are not supported: this server calls no tools', 'unsupported_parameter');
  if (request.tool_choice != null && request.tool_choice !== 'none') {
    throw new RequestFieldError('tool_choice', 'tool_choice is not supported: this server calls no tools', 'unsupported_parameter');
  }
  if (request.top_logprobs != null && request.logprobs !== true) {
    throw new RequestFieldError('top_logprobs', 'top_logprobs needs "logprobs": true', 'invalid_value');
  }
}

const encoder = new TextEncoder();

/** One entry of OpenAI's `logprobs.content`. */
function toLogprobEntry(token: GeneratedToken, top: readonly GeneratedToken[] | undefined) {
  const describe = (entry: GeneratedToken) => ({ token: entry.text, logprob: entry.logprob, bytes: Array.from(encoder.encode(entry.text)) });
  return { ...describe(token), top_logprobs: (top ?? []).map(describe) };
}

interface ChatChoiceSettings {
  id: string;
  created: number;
  model: string;
  topLogprobs: number | undefined;
  includeUsage: boolean;
}

/** The chunks of a streamed chat completion: the assistant's role, one per token of text, the finish reason, the usage. */
async function* toChatChunks(events: AsyncIterable<unknown>, settings: ChatChoiceSettings): AsyncGenerator<unknown> {
  const { id, created, model, topLogprobs, includeUsage } = settings;
  const chunk = (delta: Record<string, unknown>, finishReason: OpenAiFinishReason | null, logprobs: unknown = null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, logprobs, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });
  yield chunk({ role: 'assistant', content: '' }, null);
  let last: GenerateStreamEvent | undefined;
  for await (const item of events) {
    const event = item as GenerateStreamEvent;
    last = event;
    const { token } = event;
    if (isHiddenToken(token)) continue;
    const logprobs = topLogprobs === undefined ? null : { content: [toLogprobEntry(token, event.top_tokens)] };
    if (token.text !== '' || logprobs) yield chunk({ content: token.text }, null, logprobs);
  }
  const finished = chunk({}, toFinishReason(last?.details));
  // honnx: under response_format, the last choice says whether the answer is complete and valid, with its value.
  if (last?.structured) Object.assign(finished.choices[0], { structured: last.structured });
  yield finished;
  if (includeUsage) yield { id, object: 'chat.completion.chunk', created, model, choices: [], usage: toUsage(last?.details) };
}

/** `POST /v1/chat/completions`: a conversation answered by the generate function its `model` names. */
export async function answerChatCompletion(c: Context, surface: SurfaceContext): Promise<Response> {
  const read = await readOpenAiRequest(c, surface, GENERATE_TASKS, '{"model": "...", "messages": [{"role": "user", "content": "..."}]}');
  if ('refused' in read) return read.refused;
  const host: FunctionHost = read.host;
  const request = parseOpenAiRequest(chatCompletionRequestSchema, read.body);
  refuseUnsupported(request);
  const messages = toChatMessages(request.messages);
  const topLogprobs = request.logprobs === true ? (request.top_logprobs ?? 0) : undefined;
  const parameters = toGenerateParameters(request, request.max_completion_tokens ?? request.max_tokens, topLogprobs);
  // json_object and json_schema: the answer is decoded under the schema's grammar (the generate task's constraint).
  if (request.response_format && request.response_format.type !== 'text') parameters.response_format = request.response_format;
  const stream = request.stream === true;
  const answer = await submitToFunction(c, host, { inputs: messages, parameters, stream });
  const settings: ChatChoiceSettings = {
    id: createCompletionId('chatcmpl'),
    created: unixSeconds(),
    model: request.model,
    topLogprobs,
    includeUsage: request.stream_options?.include_usage === true,
  };
  if (stream && isAsyncIterable(answer)) return respondOpenAiStream(c, host, toChatChunks(answer, settings));
  const { generated_text: text, details, structured } = readGenerateAnswer(answer);
  const logprobs = topLogprobs === undefined ? null : { content: visibleTokens(details).map(({ token, top }) => toLogprobEntry(token, top)) };
  return respondJson(c, {
    id: settings.id,
    object: 'chat.completion',
    created: settings.created,
    model: request.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs, finish_reason: toFinishReason(details), ...(structured && { structured }) }],
    usage: toUsage(details),
  });
}
