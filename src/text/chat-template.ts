import { Template } from '@huggingface/jinja';

/** One message of a conversation, as chat templates take it: `system`, `user` or `assistant`, and its text. */
export interface ChatMessage {
  role: string;
  content: string;
}

export interface ChatTemplateOptions {
  /** End the prompt with the assistant's turn opening, so the model answers instead of continuing the user. */
  addGenerationPrompt?: boolean;
  /** More template variables (tools, custom flags). */
  variables?: Record<string, unknown>;
}

// Special tokens Hugging Face passes to every chat template, by their tokenizer_config keys.
const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

const compiled = new Map<string, Template>();

function compile(template: string): Template {
  let result = compiled.get(template);
  if (!result) {
    result = new Template(template);
    compiled.set(template, result);
  }
  return result;
}

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

/**
 * The chat template a model ships: tokenizer_config.json `chat_template` (a string, or a list of named
 * templates of which "default" applies), or the `chat_template.jinja` file newer exports write beside it.
 */
export function readChatTemplate(tokenizerConfig: Record<string, unknown>, templateFile?: string): string | undefined {
  const value = tokenizerConfig.chat_template;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value as { name?: unknown; template?: unknown }[];
    const chosen = named.find((entry) => entry.name === 'default') ?? named[0];
    if (typeof chosen?.template === 'string') return chosen.template;
  }
  return templateFile;
}

/** Renders messages with a model's chat template, as transformers' `apply_chat_template(..., tokenize=False)` does. */
export function renderChatTemplate(
  template: string,
  messages: readonly ChatMessage[],
  tokenizerConfig: Record<string, unknown>,
  options: ChatTemplateOptions = {},
): string {
  const specialTokens: Record<string, string> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const content = tokenContent(tokenizerConfig[key]);
    if (content) specialTokens[key] = content;
  }
  return compile(template).render({
    messages,
    add_generation_prompt: options.addGenerationPrompt ?? true,
    ...specialTokens,
    ...options.variables,
  });
}
