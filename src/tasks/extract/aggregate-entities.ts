/**
 * Turning per-token label scores into entities, with the semantics of Hugging Face transformers'
 * TokenClassificationPipeline (`aggregate`, `aggregate_words`, `group_entities`), so that answers match what
 * users of the Inference API expect. One deliberate difference: a grouped entity's `word` is the original text
 * between `start` and `end` rather than the tokens decoded again (which lowercases for uncased models and puts
 * spaces into "U.S.").
 */
import { argmax } from '../scores.ts';

export const AGGREGATION_STRATEGIES = ['none', 'simple', 'first', 'average', 'max'] as const;
/** How tokens become entities, with Hugging Face's names (`none`, `simple`, `first`, `average`, `max`). */
export type AggregationStrategy = (typeof AGGREGATION_STRATEGIES)[number];

/** One token's scores and where it came from, before any aggregation (HF's "pre-entity"). */
export interface PreEntity {
  /** The token string, or for an unknown token the text it covers. */
  word: string;
  /** Probabilities over the labels, in id order. */
  scores: ArrayLike<number>;
  start: number;
  end: number;
  /** Position of the token in the whole text's encoding, counting the leading special tokens, as HF's `index`. */
  index: number;
  /** True when the token continues the previous token's word. */
  isSubword: boolean;
}

/** One token's label, the answer for `aggregation_strategy: "none"`. */
export interface TokenEntity {
  entity: string;
  score: number;
  index: number;
  word: string;
  start: number;
  end: number;
}

/** Adjacent tokens or words with one entity type, the answer for every other strategy. */
export interface EntityGroup {
  entity_group: string;
  score: number;
  word: string;
  start: number;
  end: number;
}

/** One extracted entity: a token (strategy `none`) or a group of tokens. */
export type Entity = TokenEntity | EntityGroup;

interface LabeledSpan {
  entity: string;
  score: number;
  start: number;
  end: number;
}

const IGNORED_BY_DEFAULT: ReadonlySet<string> = new Set(['O']);

export function aggregateEntities(
  text: string,
  preEntities: readonly PreEntity[],
  labels: readonly string[],
  strategy: AggregationStrategy,
  ignoreLabels?: readonly string[],
): Entity[] {
  const ignored = ignoreLabels ? new Set(ignoreLabels) : IGNORED_BY_DEFAULT;
  if (strategy === 'none') {
    return preEntities
      .map((preEntity): TokenEntity => {
        const best = argmax(preEntity.scores);
        const { index, word, start, end } = preEntity;
        return { entity: labels[best], score: preEntity.scores[best], index, word, start, end };
      })
      .filter((entity) => !ignored.has(entity.entity));
  }
  const labeled = strategy === 'simple' ? preEntities.map((preEntity) => labelToken(preEntity, labels)) : labelWords(preEntities, labels, strategy);
  return groupEntities(text, labeled).filter((group) => !ignored.has(group.entity_group));
}

function labelToken(preEntity: PreEntity, labels: readonly string[]): LabeledSpan {
  const best = argmax(preEntity.scores);
  return { entity: labels[best], score: preEntity.scores[best], start: preEntity.start, end: preEntity.end };
}

/** HF's `aggregate_words`: a word's sub-tokens may not disagree, so each word gets one label. */
function labelWords(preEntities: readonly PreEntity[], labels: readonly string[], strategy: 'first' | 'average' | 'max'): LabeledSpan[] {
  const words: PreEntity[][] = [];
  for (const preEntity of preEntities) {
    if (preEntity.isSubword && words.length > 0) words[words.length - 1].push(preEntity);
    else words.push([preEntity]);
  }
  return words.map((tokens) => {
    const scores = wordScores(tokens, strategy);
    const best = argmax(scores);
    return { entity: labels[best], score: scores[best], start: tokens[0].start, end: tokens[tokens.length - 1].end };
  });
}

function wordScores(tokens: readonly PreEntity[], strategy: 'first' | 'average' | 'max'): ArrayLike<number> {
  if (strategy === 'first') return tokens[0].scores;
  if (strategy === 'max') {
    // The token whose best label is the most confident decides; the first such token on a tie, as Python's max().
    let chosen = tokens[0];
    for (const token of tokens) if (maximum(token.scores) > maximum(chosen.scores)) chosen = token;
    return chosen.scores;
  }
  const average = new Float64Array(tokens[0].scores.length);
  for (const token of tokens) for (let label = 0; label < average.length; label++) average[label] += token.scores[label];
  for (let label = 0; label < average.length; label++) average[label] /= tokens.length;
  return average;
}

/** "B-PER" is ("B", "PER"); a label without a B-/I- prefix continues like an I- label. */
function splitTag(label: string): { boundary: 'B' | 'I'; tag: string } {
  if (label.startsWith('B-')) return { boundary: 'B', tag: label.slice(2) };
  if (label.startsWith('I-')) return { boundary: 'I', tag: label.slice(2) };
  return { boundary: 'I', tag: label };
}

/** HF's `group_entities`: join adjacent spans of one type unless the later one begins a new entity (B-). */
function groupEntities(text: string, spans: readonly LabeledSpan[]): EntityGroup[] {
  const groups: EntityGroup[] = [];
  let current: LabeledSpan[] = [];
  const close = () => {
    if (current.length === 0) return;
    const label = current[0].entity;
    const dash = label.indexOf('-');
    const start = current[0].start;
    const end = current[current.length - 1].end;
    groups.push({
      entity_group: dash >= 0 ? label.slice(dash + 1) : label,
      score: current.reduce((sum, span) => sum + span.score, 0) / current.length,
      word: text.slice(start, end),
      start,
      end,
    });
    current = [];
  };
  for (const span of spans) {
    if (current.length > 0) {
      const { boundary, tag } = splitTag(span.entity);
      if (tag !== splitTag(current[current.length - 1].entity).tag || boundary === 'B') close();
    }
    current.push(span);
  }
  close();
  return groups;
}

function maximum(values: ArrayLike<number>): number {
  return values[argmax(values)];
}
