import type { Tensor } from '../../engine/engine.ts';
import { readFloat32 } from '../../engine/tensor.ts';
import { isWhitespaceCharacter } from '../../text/whitespace.ts';
import type { EncodedWithOffsets } from '../../text/tokenizer.ts';
import { createEncoderFeeds } from '../batch-feeds.ts';
import { InputError } from '../input-error.ts';
import { softmax } from '../scores.ts';
import { aggregateEntities, type AggregationStrategy, type Entity, type PreEntity } from './aggregate-entities.ts';
import type { EntityExtractor } from './entity-extractor.ts';
import { chooseWindowPerToken, planWindows, type TokenWindow } from './token-windows.ts';

/** How `extractEntities` answers: aggregation strategy, labels to leave out, windows over long texts. */
export interface ExtractOptions {
  /** How tokens become entities; Hugging Face's names. Default "simple", as the Inference API. */
  aggregationStrategy?: AggregationStrategy;
  /** Labels (or entity groups) left out of the answer. Default ["O"]. */
  ignoreLabels?: readonly string[];
  /** Tokens shared by consecutive windows of a text longer than the model reads. Default: a quarter of a window. */
  stride?: number;
  /** Refuse texts of more tokens than this, special tokens included. */
  maxTokens?: number;
  signal?: AbortSignal;
}

export const DEFAULT_AGGREGATION_STRATEGY: AggregationStrategy = 'simple';

// Rows of windows per model run: enough to amortise a run, few enough to bound the activations' memory.
const ROWS_PER_RUN = 32;

export function defaultStride(extractor: EntityExtractor): number {
  return Math.floor(extractor.windowSize / 4);
}

/** A text, its tokens and the windows it is read in. */
interface PreparedText {
  text: string;
  encoded: EncodedWithOffsets;
  /** Where the text's own tokens start in `encoded`, after the leading special tokens. */
  firstToken: number;
  /** Whether `encoded` holds the model's special tokens around the text's own. */
  framed: boolean;
  tokenCount: number;
  windows: TokenWindow[];
  /** Per window, in window order, the model output row holding its logits. */
  rows: { logits: Float32Array; row: number; width: number }[];
}

/** Finds the entities of each text; batched texts give the same entities as texts sent one by one. */
export async function extractEntities(extractor: EntityExtractor, texts: readonly string[], options: ExtractOptions = {}): Promise<Entity[][]> {
  const strategy = options.aggregationStrategy ?? DEFAULT_AGGREGATION_STRATEGY;
  const stride = options.stride ?? defaultStride(extractor);
  if (!Number.isInteger(stride) || stride < 0 || stride >= extractor.windowSize) {
    throw new InputError('invalid', `stride must be a whole number from 0 to ${extractor.windowSize - 1} for this model, got ${stride}`);
  }
  const prepared = texts.map((text) => prepareText(extractor, text, stride, options.maxTokens));
  await runWindows(extractor, prepared, options.signal);
  return prepared.map((entry) => aggregateEntities(entry.text, gatherPreEntities(extractor, entry, strategy), extractor.labels, strategy, options.ignoreLabels));
}

function prepareText(extractor: EntityExtractor, text: string, stride: number, maxTokens: number | undefined): PreparedText {
  if (text.length === 0) throw new InputError('empty', 'an input text is empty');
  const encoded = extractor.tokenizer.encodeWithOffsets(text);
  if (maxTokens !== undefined && encoded.ids.length > maxTokens) {
    throw new InputError('too_large', `an input has ${encoded.ids.length} tokens, more than the ${maxTokens} this function accepts`);
  }
  const { prefixIds, suffixIds } = extractor;
  const framed =
    encoded.ids.length >= prefixIds.length + suffixIds.length &&
    prefixIds.every((id, index) => encoded.ids[index] === id) &&
    suffixIds.every((id, index) => encoded.ids[encoded.ids.length - suffixIds.length + index] === id);
  const firstToken = framed ? prefixIds.length : 0;
  const tokenCount = encoded.ids.length - (framed ? prefixIds.length + suffixIds.length : 0);
  const windows = tokenCount > 0 ? planWindows(tokenCount, extractor.windowSize, stride) : [];
  return { text, encoded, firstToken, framed, tokenCount, windows, rows: [] };
}

/** Runs every window of every text through the model, several rows per run, padded to the longest row. */
async function runWindows(extractor: EntityExtractor, prepared: PreparedText[], signal: AbortSignal | undefined): Promise<void> {
  const pending = prepared.flatMap((entry) =>
    entry.windows.map((window, windowIndex) => ({
      entry,
      window: windowIndex,
      // A text read in one window is its own encoding, when that holds the special tokens already.
      ids:
        entry.framed && entry.windows.length === 1
          ? entry.encoded.ids
          : [...extractor.prefixIds, ...entry.encoded.ids.slice(entry.firstToken + window.start, entry.firstToken + window.end), ...extractor.suffixIds],
    })),
  );
  // Rows of similar length share a run, so little of each run is padding.
  pending.sort((a, b) => a.ids.length - b.ids.length);
  for (let first = 0; first < pending.length; first += ROWS_PER_RUN) {
    signal?.throwIfAborted();
    const batch = pending.slice(first, first + ROWS_PER_RUN);
    const feeds = createEncoderFeeds(extractor.session, batch.map((row) => row.ids), extractor.padId);
    const outputs = await extractor.session.run(feeds, [extractor.logitsName]);
    const logits = readLogits(extractor, outputs[extractor.logitsName], batch.length);
    batch.forEach((row, index) => (row.entry.rows[row.window] = { logits, row: index, width: feeds.input_ids.dims[1] }));
  }
}

function readLogits(extractor: EntityExtractor, tensor: Tensor | undefined, rows: number): Float32Array {
  if (!tensor) throw new Error(`model ${extractor.name} gave no ${extractor.logitsName} output`);
  const [batch, , labelCount] = tensor.dims;
  if (tensor.dims.length !== 3 || batch !== rows || labelCount !== extractor.labels.length) {
    throw new Error(`model ${extractor.name} gave logits of shape [${tensor.dims}], expected [${rows}, length, ${extractor.labels.length}]`);
  }
  return readFloat32(tensor);
}

/** Scores of a word's later tokens, which `first` never reads. */
const UNREAD_SCORES: readonly number[] = [];

/**
 * HF's `gather_pre_entities`: each text token with its scores (from its best window), span and word boundary.
 * Under `first`, a token continuing a word is given no scores: its word takes the first token's.
 */
function gatherPreEntities(extractor: EntityExtractor, entry: PreparedText, strategy: AggregationStrategy): PreEntity[] {
  const { encoded, text, firstToken, tokenCount, windows } = entry;
  // Nearly every text fits one window, which then holds every token: no table needed.
  const chosen = windows.length === 1 ? undefined : chooseWindowPerToken(windows, tokenCount);
  const labelCount = extractor.labels.length;
  const unknownId = extractor.tokenizer.specialIds.unk;
  const preEntities: PreEntity[] = [];
  let previousEnd = 0;
  for (let token = 0; token < tokenCount; token++) {
    const index = firstToken + token;
    const unknown = encoded.ids[index] === unknownId;
    // Special tokens typed into the text ([SEP], <s>) are skipped, as the post-processor's own.
    if (encoded.special[index] && !unknown) continue;
    const [start, end] = encoded.offsets[index];
    // So is a token that stands for no text, as the space RoBERTa puts before the first word: there is nothing
    // to label, and between two name tokens it would split one entity in two.
    if (isBlank(text, start, end)) continue;
    const windowIndex = chosen ? chosen[token] : 0;
    const { logits, row, width } = entry.rows[windowIndex];
    const position = extractor.prefixIds.length + token - windows[windowIndex].start;
    const offset = (row * width + position) * labelCount;
    const word = encoded.tokens[index];
    // Byte-level tokens holding bytes of one character (an emoji) share its span, and so its word.
    const continuesWord = !unknown && (start < previousEnd || isSubword(extractor, word, text, start));
    const scoresUnread = strategy === 'first' && continuesWord && preEntities.length > 0;
    preEntities.push({
      word: unknown ? text.slice(start, end) : word,
      scores: scoresUnread ? UNREAD_SCORES : softmax(logits, offset, labelCount),
      start,
      end,
      index,
      isSubword: continuesWord,
    });
    previousEnd = end;
  }
  return preEntities;
}

/**
 * A WordPiece token continues a word when it starts with "##". Tokenizers without such a prefix (BPE, SentencePiece)
 * mark word starts with a space instead, so a token continues a word when no whitespace precedes it: HF's fallback
 * heuristic, which checks for " " only; here any whitespace counts, so a word after a newline or tab is a word.
 */
function isSubword(extractor: EntityExtractor, token: string, text: string, start: number): boolean {
  if (extractor.subwordPrefix) return token.startsWith(extractor.subwordPrefix);
  return start > 0 && start < text.length && !isWhitespaceCharacter(text, start - 1) && !isWhitespaceCharacter(text, start);
}

/** Whether text[start, end) is only whitespace (or empty). */
function isBlank(text: string, start: number, end: number): boolean {
  for (let index = start; index < end; index++) if (!isWhitespaceCharacter(text, index)) return false;
  return true;
}
