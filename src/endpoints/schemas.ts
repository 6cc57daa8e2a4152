import * as z from 'zod/mini';

/** One text or a non-empty batch of texts, the `inputs` of the Hugging Face Inference API. */
export const textOrTextsSchema = z.union([
  z.string().check(z.minLength(1, 'must not be empty')),
  z.array(z.string().check(z.minLength(1, 'must not be empty'))).check(z.minLength(1, 'must hold at least one text')),
]);

/** A positive whole number, or null / 0 meaning "all". */
export const optionalCountSchema = z.optional(z.nullable(z.int().check(z.minimum(0))));

export const toTextList = (inputs: string | string[]): string[] => (typeof inputs === 'string' ? [inputs] : inputs);
