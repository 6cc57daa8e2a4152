import type { EngineSession } from '../../engine/engine.ts';
import { readLabels, requireTokenizer, type ModelBundle } from '../../models/model-bundle.ts';
import type { TextTokenizer } from '../../text/tokenizer.ts';

/** A token classification model, opened and checked, with what its inputs need. */
export interface EntityExtractor {
  readonly name: string;
  readonly session: EngineSession;
  readonly tokenizer: TextTokenizer;
  /** Label names in id order (config.json `id2label`), for example "B-PER". */
  readonly labels: readonly string[];
  /** The longest input the model reads, special tokens included. */
  readonly maxLength: number;
  /** Special token ids the tokenizer puts before and after every text ([CLS] ... [SEP], <s> ... </s>). */
  readonly prefixIds: readonly number[];
  readonly suffixIds: readonly number[];
  /** Text tokens per window: `maxLength` less the special tokens. */
  readonly windowSize: number;
  readonly padId: number;
  /** WordPiece's "##": a token starting with it continues the previous word. Absent for BPE and SentencePiece. */
  readonly subwordPrefix?: string;
  readonly logitsName: string;
}

const SUPPORTED_INPUTS = new Set(['input_ids', 'attention_mask', 'token_type_ids']);

// RoBERTa-family position tables start after the padding index, so they hold two fewer positions than they list.
const OFFSET_POSITION_MODELS = new Set(['roberta', 'xlm-roberta', 'xlm-roberta-xl', 'camembert', 'longformer', 'data2vec-text', 'luke', 'mpnet']);

/** How an entity extractor reads texts (the window it reads long texts in). */
export interface EntityExtractorOptions {
  /**
   * Read texts in windows of at most this many tokens, special tokens included, even where the model takes more:
   * a model trained on short sentences can label better with less context.
   */
  maxLength?: number;
}

/** Opens a token-classification model's session and reads its labels, for `extractEntities`. */
export async function createEntityExtractor(model: ModelBundle, options: EntityExtractorOptions = {}): Promise<EntityExtractor> {
  const tokenizer = requireTokenizer(model);
  const labels = readLabels(model.config);
  if (labels.length === 0) throw new Error(`model ${model.name} has no id2label in config.json`);
  const session = await model.openSession();
  const unsupported = session.inputs.map((input) => input.name).filter((name) => !SUPPORTED_INPUTS.has(name));
  if (unsupported.length > 0) {
    await session.release();
    throw new Error(`model ${model.name} needs inputs honnx's extract task does not give: ${unsupported.join(', ')}`);
  }
  const logitsName = session.outputs.some((output) => output.name === 'logits') ? 'logits' : session.outputs[0]?.name;
  if (!logitsName) throw new Error(`model ${model.name} has no outputs`);
  const maxLength = Math.min(readMaxLength(model, tokenizer), options.maxLength ?? Infinity);
  const { prefixIds, suffixIds } = findSpecialTokenTemplate(tokenizer);
  const windowSize = maxLength - prefixIds.length - suffixIds.length;
  if (windowSize < 2) throw new Error(`model ${model.name} takes ${maxLength} tokens, too few for any text`);
  return {
    name: model.name,
    session,
    tokenizer,
    labels,
    maxLength,
    prefixIds,
    suffixIds,
    windowSize,
    padId: tokenizer.specialIds.pad ?? 0,
    subwordPrefix: await readSubwordPrefix(model),
    logitsName,
  };
}

function readMaxLength(model: ModelBundle, tokenizer: TextTokenizer): number {
  const positions = Number(model.config.max_position_embeddings);
  if (!Number.isFinite(positions) || positions <= 0) return tokenizer.modelMaxLength;
  const padId = Number(model.config.pad_token_id ?? 1);
  const usable = OFFSET_POSITION_MODELS.has(String(model.config.model_type)) ? positions - padId - 1 : positions;
  return Math.min(tokenizer.modelMaxLength, usable);
}

/** The special tokens around a text, found by encoding a one-character text with and without them. */
function findSpecialTokenTemplate(tokenizer: TextTokenizer): { prefixIds: number[]; suffixIds: number[] } {
  const withSpecial = tokenizer.encode('a').ids;
  const bare = tokenizer.encode('a', { addSpecialTokens: false }).ids;
  for (let start = 0; start + bare.length <= withSpecial.length; start++) {
    if (bare.every((id, index) => withSpecial[start + index] === id)) {
      return { prefixIds: withSpecial.slice(0, start), suffixIds: withSpecial.slice(start + bare.length) };
    }
  }
  return { prefixIds: [], suffixIds: [] };
}

/**
 * tokenizer.json `model.continuing_subword_prefix`, read from the text rather than parsed again: the bundle has
 * already parsed the file once, and large vocabularies make a second parse costly in a Worker.
 */
async function readSubwordPrefix(model: ModelBundle): Promise<string | undefined> {
  if (!(await model.files.has('tokenizer.json'))) return undefined;
  const match = /"continuing_subword_prefix"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(await model.files.readText('tokenizer.json'));
  const prefix = match ? (JSON.parse(match[1]) as string) : undefined;
  return prefix ? prefix : undefined;
}
