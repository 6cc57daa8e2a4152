import { renderChatTemplate, type ChatMessage } from '../../text/chat-template.ts';
import { InputError } from '../input-error.ts';
import type { TextGenerator } from './text-generator.ts';

export type { ChatMessage } from '../../text/chat-template.ts';

/** A prompt ready to tokenize. */
export interface Prompt {
  text: string;
  /** False for chat-templated prompts, which already hold their special tokens (as in `apply_chat_template`). */
  addSpecialTokens: boolean;
}

/** What a request asks the model to continue: a text, or a conversation (system / user / assistant messages). */
export type PromptInput = string | readonly ChatMessage[];


/** How an input becomes a prompt: a template around it, or the model's chat template. */
export interface PromptStyle {
  /** A function's template; `{{input}}` marks where the request's text goes. Texts only: a conversation has its roles. */
  template?: string;
  /** Wrap the (templated) text as the user's message in the model's chat template. */
  useChatTemplate?: boolean;
  /** A system message placed before the user's, with the chat template; before a conversation that has none of its own. */
  systemPrompt?: string;
}

const INPUT_SLOT = /\{\{\s*input\s*\}\}/g;

/** Puts `input` into every `{{input}}` of `template`; nothing else in the template is interpreted. */
export function fillPromptTemplate(template: string, input: string): string {
  if (!template.match(INPUT_SLOT)) throw new Error('a prompt template must contain {{input}}');
  return template.replace(INPUT_SLOT, () => input);
}

type PromptModel = Pick<TextGenerator, 'chatTemplate' | 'tokenizerConfig'>;

/**
 * A conversation for a model without a chat template (a base model such as tinystories-260k): the messages'
 * contents, one per line, with no role markers. A base model learned no roles, and this way one user message is
 * exactly the text prompt the model continues.
 */
export function renderWithoutChatTemplate(messages: readonly ChatMessage[]): Prompt {
  return { text: messages.map((message) => message.content).join('\n'), addSpecialTokens: true };
}

function renderConversation(generator: PromptModel, messages: readonly ChatMessage[]): Prompt {
  if (!generator.chatTemplate) throw new InputError('invalid', 'this model has no chat template');
  try {
    return { text: renderChatTemplate(generator.chatTemplate, messages, generator.tokenizerConfig, { addGenerationPrompt: true }), addSpecialTokens: false };
  } catch (error) {
    // Templates refuse conversations they cannot render (`raise_exception`: roles that do not alternate, ...).
    throw new InputError('invalid', `the model's chat template refused the messages: ${(error as Error).message}`);
  }
}

/**
 * The prompt for a text or a conversation. A conversation is rendered with the model's chat template, or without
 * one as `renderWithoutChatTemplate` says; a text is taken as it is unless the style wraps it.
 */
export function buildPrompt(generator: PromptModel, input: PromptInput, style: PromptStyle = {}): Prompt {
  if (typeof input !== 'string') {
    const hasSystem = input.some((message) => message.role === 'system');
    const messages = style.systemPrompt && !hasSystem ? [{ role: 'system', content: style.systemPrompt }, ...input] : input;
    if (messages.length === 0) throw new InputError('empty', 'the conversation has no messages');
    return generator.chatTemplate ? renderConversation(generator, messages) : renderWithoutChatTemplate(messages);
  }
  const content = style.template === undefined ? input : fillPromptTemplate(style.template, input);
  if (!style.useChatTemplate) return { text: content, addSpecialTokens: true };
  const messages: ChatMessage[] = [];
  if (style.systemPrompt) messages.push({ role: 'system', content: style.systemPrompt });
  messages.push({ role: 'user', content });
  return renderConversation(generator, messages);
}
