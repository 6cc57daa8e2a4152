import { describe, expect, it } from 'vitest';
import { applyOccurrencePenalties } from '../../src/tasks/generate/occurrence-penalties.ts';
import { buildPrompt } from '../../src/tasks/generate/prompt.ts';
import { readTopLogprobs } from '../../src/tasks/generate/top-logprobs.ts';
import { InputError } from '../../src/tasks/input-error.ts';

describe('frequency and presence penalties (OpenAI semantics)', () => {
  it('lowers each generated token by count × frequency + presence, leaves the rest', () => {
    const scores = Float32Array.from([1, 2, 3, 4]);
    applyOccurrencePenalties(scores, [1, 1, 3], 0.5, 0.25);
    // id 1 twice: 2 - (2 × 0.5 + 0.25); id 3 once: 4 - (0.5 + 0.25).
    expect(Array.from(scores)).toEqual([1, 0.75, 3, 3.25]);
    const untouched = Float32Array.from([1, 2]);
    applyOccurrencePenalties(untouched, [0, 1], 0, 0);
    expect(Array.from(untouched)).toEqual([1, 2]);
  });
});

describe('top log-probabilities of a step', () => {
  it('gives the most likely ids best first and a normaliser matching log-softmax', () => {
    const scores = Float32Array.from([0.5, 3, -1, 3, 2]);
    const { normaliser, top } = readTopLogprobs(scores, 3);
    const logSum = Math.log(Array.from(scores).reduce((sum, score) => sum + Math.exp(score), 0));
    expect(normaliser).toBeCloseTo(logSum, 6);
    // Ties keep the lower id first.
    expect(top.map((entry) => entry.id)).toEqual([1, 3, 4]);
    expect(top[2].logprob).toBeCloseTo(2 - logSum, 6);
    expect(readTopLogprobs(scores, 0).top).toEqual([]);
  });
});

describe('prompts as message lists', () => {
  const chatml = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

  it('renders a conversation with the chat template, the function system prompt first when the conversation has none', () => {
    const prompt = buildPrompt({ chatTemplate: chatml, tokenizerConfig: {} }, [{ role: 'user', content: 'Hi' }], { systemPrompt: 'Be brief.' });
    expect(prompt).toEqual({ text: '<|system|>Be brief.\n<|user|>Hi\n<|assistant|>', addSpecialTokens: false });
    const own = buildPrompt({ chatTemplate: chatml, tokenizerConfig: {} }, [{ role: 'system', content: 'Mine' }, { role: 'user', content: 'Hi' }], { systemPrompt: 'Be brief.' });
    expect(own.text).toBe('<|system|>Mine\n<|user|>Hi\n<|assistant|>');
  });

  it('without a chat template, joins the contents one per line with no roles; an empty conversation is refused', () => {
    const prompt = buildPrompt({ tokenizerConfig: {} }, [{ role: 'system', content: 'A story.' }, { role: 'user', content: 'Once upon a time' }]);
    expect(prompt).toEqual({ text: 'A story.\nOnce upon a time', addSpecialTokens: true });
    expect(() => buildPrompt({ tokenizerConfig: {} }, [])).toThrow(InputError);
  });

  it("a template's own refusal (raise_exception) is the client's 400, not a crash", () => {
    const strict = "{% if messages[0]['role'] != 'user' %}{{ raise_exception('must start with user') }}{% endif %}x";
    expect(() => buildPrompt({ chatTemplate: strict, tokenizerConfig: {} }, [{ role: 'assistant', content: 'x' }])).toThrow(/refused the messages: .*must start with user/);
  });
});
