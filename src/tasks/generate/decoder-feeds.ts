import type { Feeds } from '../../engine/engine.ts';
import type { DecoderSignature } from './decoder-signature.ts';

/**
 * One run of a causal LM over a batch: each row feeds its own new tokens (possibly none, for a row whose prompt
 * starts in a later chunk), right-aligned in an [rows, width] matrix after a cache of `pastWidth` positions.
 * Rows are left-padded throughout, so a row's real entries always end at the last position.
 */
export interface DecoderRun {
  /** Entries each row holds before the run. */
  readonly before: readonly number[];
  /** Each row's new tokens, at most `width` of them. */
  readonly rows: readonly (readonly number[])[];
  readonly width: number;
  /** The cache's sequence axis before the run. */
  readonly pastWidth: number;
  /** Positions at the end of the run whose logits are wanted (where the export can keep fewer): 1 unless scoring. */
  readonly logitPositions?: number;
}

/** Entries each row holds after the run. */
export const lengthsAfter = (run: DecoderRun) => run.before.map((length, row) => length + run.rows[row].length);

/** Every input but the cache, for the inputs the graph declares. */
export function createDecoderFeeds(signature: DecoderSignature, run: DecoderRun): Feeds {
  const { declared } = signature;
  const rowCount = run.rows.length;
  const { width, pastWidth } = run;
  const total = pastWidth + width;
  const after = lengthsAfter(run);
  const ids = new BigInt64Array(rowCount * width);
  const positions = new BigInt64Array(rowCount * width);
  run.rows.forEach((tokens, row) => {
    const offset = row * width + width - tokens.length;
    for (let index = 0; index < tokens.length; index++) {
      // Padding ids (0, valid in every vocabulary) and positions (0) are hidden by the mask.
      ids[offset + index] = BigInt(tokens[index]);
      positions[offset + index] = BigInt(run.before[row] + index);
    }
  });
  const feeds: Feeds = { input_ids: { type: 'int64', data: ids, dims: [rowCount, width] } };
  if (declared.has('attention_mask')) {
    const mask = new BigInt64Array(rowCount * total);
    after.forEach((length, row) => mask.fill(1n, row * total + total - length, (row + 1) * total));
    feeds.attention_mask = { type: 'int64', data: mask, dims: [rowCount, total] };
  }
  if (declared.has('position_ids')) feeds.position_ids = { type: 'int64', data: positions, dims: [rowCount, width] };
  if (declared.has('cache_position')) {
    feeds.cache_position = { type: 'int64', data: BigInt64Array.from({ length: width }, (_, index) => BigInt(pastWidth + index)), dims: [width] };
  }
  if (declared.has('use_cache_branch')) feeds.use_cache_branch = { type: 'bool', data: Uint8Array.of(pastWidth > 0 ? 1 : 0), dims: [1] };
  if (signature.logitsToKeepInput) feeds[signature.logitsToKeepInput] = { type: 'int64', data: BigInt64Array.of(BigInt(run.logitPositions ?? 1)), dims: [] };
  if (declared.has('seqlens_k')) feeds.seqlens_k = { type: 'int32', data: Int32Array.from(after, (length) => length - 1), dims: [rowCount] };
  if (declared.has('total_sequence_length')) feeds.total_sequence_length = { type: 'int32', data: Int32Array.of(total), dims: [] };
  return feeds;
}
