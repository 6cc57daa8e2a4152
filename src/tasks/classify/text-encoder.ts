import type { ModelBundle } from '../../models/model-bundle.ts';
import { readJson } from '../../models/model-files.ts';
import { createFastTextFeaturizer, type FastTextFeaturizerSpec } from '../../text/fasttext-featurizer.ts';
import { InputError } from '../input-error.ts';

/** Turns one text into the id row a classifier reads: tokenizer ids, or fastText feature rows. */
export interface ClassifierTextEncoder {
  readonly kind: 'tokenizer' | 'fasttext';
  /** Longest row the model accepts; `Infinity` for bag-of-features models. */
  readonly maxLength: number;
  readonly padId: number;
  encode(text: string, options: { truncate: boolean; maxTokens: number }): number[];
}

const FASTTEXT_FEATURIZER_FILE = 'fasttext_featurizer.json';

export async function createClassifierTextEncoder(model: ModelBundle): Promise<ClassifierTextEncoder> {
  if (await model.files.has(FASTTEXT_FEATURIZER_FILE)) {
    const featurize = createFastTextFeaturizer(await readJson<FastTextFeaturizerSpec>(model.files, FASTTEXT_FEATURIZER_FILE));
    return {
      kind: 'fasttext',
      maxLength: Infinity,
      padId: 0,
      encode(text, { maxTokens }) {
        const rows = featurize(text);
        if (rows.length > maxTokens) {
          throw new InputError('too_large', `input has ${rows.length} features, over this function's limit of ${maxTokens}`);
        }
        return rows;
      },
    };
  }
  const tokenizer = model.tokenizer;
  if (!tokenizer) {
    throw new Error(`model ${model.name} has neither tokenizer.json nor ${FASTTEXT_FEATURIZER_FILE} (looked in ${model.files.location})`);
  }
  return {
    kind: 'tokenizer',
    maxLength: tokenizer.modelMaxLength,
    padId: tokenizer.specialIds.pad ?? 0,
    encode(text, { truncate, maxTokens }) {
      const { ids } = tokenizer.encode(text);
      const limit = Math.min(maxTokens, tokenizer.modelMaxLength);
      if (ids.length <= limit) return ids;
      if (!truncate) {
        throw new InputError(
          'too_large',
          `input is ${ids.length} tokens, over the limit of ${limit}; shorten it or set "truncation": true`,
        );
      }
      // Keep the closing special token ([SEP], </s>) the model was trained to see last.
      const last = ids[ids.length - 1];
      const closesWithSpecial = last === tokenizer.specialIds.sep || last === tokenizer.specialIds.eos;
      return closesWithSpecial ? [...ids.slice(0, limit - 1), last] : ids.slice(0, limit);
    },
  };
}
