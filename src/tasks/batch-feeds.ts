import type { Feeds, InferenceSession } from '../engine/engine.ts';
import { createAttentionMask, createInt64Matrix } from '../engine/tensor.ts';

const inputNames = new WeakMap<InferenceSession, ReadonlySet<string>>();

function declaredInputs(session: InferenceSession): ReadonlySet<string> {
  let names = inputNames.get(session);
  if (!names) {
    names = new Set(session.inputs.map((input) => input.name));
    inputNames.set(session, names);
  }
  return names;
}

/**
 * Builds the feeds of an encoder from rows of token ids: right-padded `input_ids`, plus `attention_mask`
 * and all-zero `token_type_ids` only where the graph declares them (an average-word-vector model takes ids alone).
 */
export function createEncoderFeeds(session: InferenceSession, rows: readonly (readonly number[])[], padId = 0): Feeds {
  const width = Math.max(1, ...rows.map((row) => row.length));
  const declared = declaredInputs(session);
  const feeds: Feeds = { input_ids: createInt64Matrix(rows, width, padId) };
  if (declared.has('attention_mask')) feeds.attention_mask = createAttentionMask(rows.map((row) => row.length), width);
  if (declared.has('token_type_ids')) {
    feeds.token_type_ids = { type: 'int64', data: new BigInt64Array(rows.length * width), dims: [rows.length, width] };
  }
  return feeds;
}
