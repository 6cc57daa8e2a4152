import { describe, expect, it } from 'vitest';
import { buildSummaryPrompt, type GenerativeSummarizer } from '../../src/tasks/summarize/generative.ts';
import { buildPrompt, fillPromptTemplate } from '../../src/tasks/generate/prompt.ts';
import type { TextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { InputError } from '../../src/tasks/input-error.ts';
import { readChatTemplate, renderChatTemplate } from '../../src/text/chat-template.ts';

// The ChatML template of Qwen2 / SmolLM2-Instruct tokenizer_config.json, verbatim.
const CHATML =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

// A Llama-2-style template: uses bos_token / eos_token from tokenizer_config and raise_exception.
const LLAMA2 =
  "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}{% set messages = messages[1:] %}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + (('<<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n') if loop.first and system is defined else '') + message['content'] + ' [/INST]' }}{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}";

const llamaConfig = { bos_token: '<s>', eos_token: { content: '</s>', special: true } };

describe('chat templates', () => {
  it('renders ChatML with the generation prompt, as apply_chat_template(tokenize=False) does', () => {
    const text = renderChatTemplate(CHATML, [{ role: 'user', content: 'Hi there' }], {});
    expect(text).toBe(
      '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' +
        '<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n',
    );
    const withoutPrompt = renderChatTemplate(CHATML, [{ role: 'system', content: 'Be brief.' }], {}, { addGenerationPrompt: false });
    expect(withoutPrompt).toBe('<|im_start|>system\nBe brief.<|im_end|>\n');
  });

  it('passes the special tokens of tokenizer_config (strings or AddedToken objects) to the template', () => {
    const messages = [
      { role: 'system', content: 'S' },
      { role: 'user', content: 'U1' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'U2' },
    ];
    expect(renderChatTemplate(LLAMA2, messages, llamaConfig)).toBe('<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nU1 [/INST] A1 </s><s>[INST] U2 [/INST]');
    expect(() => renderChatTemplate(LLAMA2, [{ role: 'assistant', content: 'x' }], llamaConfig)).toThrow(/alternate/);
  });

  it('finds the template as a string, as the "default" of named templates, or in chat_template.jinja', () => {
    expect(readChatTemplate({ chat_template: 'A' })).toBe('A');
    expect(readChatTemplate({ chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D' }] })).toBe('D');
    expect(readChatTemplate({}, 'F')).toBe('F');
    expect(readChatTemplate({})).toBeUndefined();
  });
});

describe('prompts', () => {
  const chatGenerator = { chatTemplate: CHATML, tokenizerConfig: {} } as Pick<TextGenerator, 'chatTemplate' | 'tokenizerConfig'>;

  it('fills {{input}} literally, leaving replacement patterns and other braces alone', () => {
    expect(fillPromptTemplate('Q: {{ input }}\nA: {{input}}', "$& {{x}} '$1'")).toBe("Q: $& {{x}} '$1'\nA: $& {{x}} '$1'");
    expect(() => fillPromptTemplate('no slot', 'x')).toThrow();
  });

  it('keeps special tokens for plain prompts and leaves them to the template for chat prompts', () => {
    expect(buildPrompt(chatGenerator, 'Hello')).toEqual({ text: 'Hello', addSpecialTokens: true });
    const chat = buildPrompt(chatGenerator, 'Hello', { useChatTemplate: true, systemPrompt: 'Be brief.', template: 'Say: {{input}}' });
    expect(chat).toEqual({
      text: '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nSay: Hello<|im_end|>\n<|im_start|>assistant\n',
      addSpecialTokens: false,
    });
    expect(() => buildPrompt({ tokenizerConfig: {} }, 'Hello', { useChatTemplate: true })).toThrow(InputError);
  });

  it('asks for a summary with the T5 prefix, the chat template, or TL;DR', () => {
    const summarizer = (kind: 'encoder-decoder' | 'decoder-only', chatTemplate?: string, prefix?: string) =>
      ({
        kind: 'generative',
        taskParams: prefix === undefined ? {} : { prefix },
        generator: { model: { kind }, chatTemplate, tokenizerConfig: {} },
      }) as unknown as GenerativeSummarizer;
    expect(buildSummaryPrompt(summarizer('encoder-decoder', undefined, 'summarize: '), 'Text.')).toEqual({ text: 'summarize: Text.', addSpecialTokens: true });
    expect(buildSummaryPrompt(summarizer('encoder-decoder'), 'Text.').text).toBe('Text.');
    expect(buildSummaryPrompt(summarizer('decoder-only'), 'Text.').text).toBe('Text.\n\nTL;DR:');
    const chat = buildSummaryPrompt(summarizer('decoder-only', CHATML), 'Text.');
    expect(chat.text).toContain('<|im_start|>user\nSummarize the following text in a few sentences.\n\nText.<|im_end|>\n<|im_start|>assistant\n');
    expect(buildSummaryPrompt(summarizer('decoder-only', CHATML), 'Text.', { template: 'Sum up: {{input}}', useChatTemplate: false }).text).toBe(
      'Sum up: Text.',
    );
  });
});
