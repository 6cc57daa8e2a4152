import * as z from 'zod/mini';

/**
 * A text with something in it: a text of only spaces or line breaks is refused as an empty one is, since no task
 * has anything to answer for it (a classifier would still score it).
 */
export const nonBlankTextSchema = z.string().check(z.minLength(1, { message: 'must not be empty', abort: true }), z.regex(/\S/, 'must not be only whitespace'));

/** One text or a non-empty batch of texts, the `inputs` of the Hugging Face Inference API. */
export const textOrTextsSchema = z.union([nonBlankTextSchema, z.array(nonBlankTextSchema).check(z.minLength(1, 'must hold at least one text'))]);

/** A positive whole number, or null / 0 meaning "all". */
export const optionalCountSchema = z.optional(z.nullable(z.int().check(z.minimum(0))));

export const toTextList = (inputs: string | string[]): string[] => (typeof inputs === 'string' ? [inputs] : inputs);
