import { InputError } from '../tasks/input-error.ts';

/** Keys of a chat message that never reach the prompt as text of their own. */
const NOT_TEXT_KEYS = new Set(['role', 'type']);

/** The characters of every text inside `value` (a message's content, its text parts), roles and part types left out. */
function countTextCharacters(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + countTextCharacters(item), 0);
  if (value && typeof value === 'object') {
    let sum = 0;
    for (const [key, item] of Object.entries(value)) if (!NOT_TEXT_KEYS.has(key)) sum += countTextCharacters(item);
    return sum;
  }
  return 0;
}

/**
 * The characters of each input a request's token limit applies to: each text of a list of texts, or the whole of
 * anything else (one text, a conversation's messages summed, as they become one prompt).
 */
export function measureInputCharacters(inputs: unknown): number[] {
  if (Array.isArray(inputs) && inputs.every((item) => typeof item === 'string')) return inputs.map((text: string) => text.length);
  return [countTextCharacters(inputs)];
}

/**
 * Refuses, before anything tokenizes it, an input too long in characters to fit `maxInputTokens` tokens, with the
 * 413 of a token limit that names the character limit it follows from.
 */
export function refuseInputsOverCharacters(inputs: unknown, maxInputTokens: number, charactersPerToken: number): void {
  const limit = maxInputTokens * charactersPerToken;
  const lengths = measureInputCharacters(inputs);
  const index = lengths.findIndex((length) => length > limit);
  if (index === -1) return;
  // A list of texts names the one, as the token check does.
  const which = Array.isArray(inputs) && lengths.length === inputs.length && typeof inputs[0] === 'string' ? `inputs[${index}]: ` : '';
  throw new InputError(
    'too_large',
    `${which}the input is ${lengths[index]} characters, over this function's limit of ${limit} characters: it cannot fit in limits.maxInputTokens (${maxInputTokens}) tokens of at most ${charactersPerToken} characters each`,
  );
}
