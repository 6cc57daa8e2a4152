import { renderChatTemplate, type ChatMessage } from '../../text/chat-template.ts';
import { InputError } from '../input-error.ts';
import type { TextGenerator } from './text-generator.ts';

/** A prompt ready to tokenize. */
export interface Prompt {
  text: string;
  /** False for chat-templated prompts, which already hold their special tokens (as in `apply_chat_template`). */
  addSpecialTokens: boolean;
}

/** How an input becomes a prompt: a template around it, or the model's chat template. */
export interface PromptStyle {
  /** A function's template; `{{input}}` marks where the request's text goes. */
  template?: string;
  /** Wrap the (templated) text as the user's message in the model's chat template. */
  useChatTemplate?: boolean;
  /** A system message placed before the user's, with the chat template. */
  systemPrompt?: string;
}

const INPUT_SLOT = /\{\{\s*input\s*\}\}/g;

/** Puts `input` into every `{{input}}` of `template`; nothing else in the template is interpreted. */
export function fillPromptTemplate(template: string, input: string): string {
  if (!template.match(INPUT_SLOT)) throw new Error('a prompt template must contain {{input}}');
  return template.replace(INPUT_SLOT, () => input);
}

export function buildPrompt(generator: Pick<TextGenerator, 'chatTemplate' | 'tokenizerConfig'>, input: string, style: PromptStyle = {}): Prompt {
  const content = style.template === undefined ? input : fillPromptTemplate(style.template, input);
  if (!style.useChatTemplate) return { text: content, addSpecialTokens: true };
  if (!generator.chatTemplate) throw new InputError('invalid', 'this model has no chat template');
  const messages: ChatMessage[] = [];
  if (style.systemPrompt) messages.push({ role: 'system', content: style.systemPrompt });
  messages.push({ role: 'user', content });
  return {
    text: renderChatTemplate(generator.chatTemplate, messages, generator.tokenizerConfig, { addGenerationPrompt: true }),
    addSpecialTokens: false,
  };
}
