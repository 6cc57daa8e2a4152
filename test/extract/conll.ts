import { readFileSync } from 'node:fs';
import type { Entity, EntityGroup } from '../../src/tasks/extract/aggregate-entities.ts';

/**
 * CoNLL-2003 reading and entity-level scoring for the accuracy test. The scorer follows conlleval / seqeval's
 * default IOB2 chunking, as the model README's own scorer: a chunk starts at B-X, and also at an I-X that follows O
 * or another type; exact-span, exact-type matches count.
 */

export interface ConllSentence {
  words: string[];
  tags: string[];
}

export function readConll(path: string): ConllSentence[] {
  const sentences: ConllSentence[] = [];
  let current: ConllSentence = { words: [], tags: [] };
  const close = () => {
    if (current.words.length > 0 && current.words[0] !== '-DOCSTART-') sentences.push(current);
    current = { words: [], tags: [] };
  };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') {
      close();
      continue;
    }
    const parts = trimmed.split(/\s+/);
    current.words.push(parts[0]);
    current.tags.push(parts[parts.length - 1]);
  }
  close();
  return sentences;
}

/** The sentence as one text, words joined by single spaces, with each word's character span. */
export function joinWords(words: readonly string[]): { text: string; spans: [number, number][] } {
  const spans: [number, number][] = [];
  let position = 0;
  for (const word of words) {
    spans.push([position, position + word.length]);
    position += word.length + 1;
  }
  return { text: words.join(' '), spans };
}

/**
 * Word tags from entities: a word is in an entity when the entity holds its first character (the README scores
 * each CoNLL word by its first sub-token); the entity's first such word is B-, the rest I-.
 */
export function tagWords(spans: readonly [number, number][], entities: readonly Entity[]): string[] {
  const groups = entities as EntityGroup[];
  let previous: EntityGroup | undefined;
  return spans.map(([start]) => {
    const entity = groups.find((group) => group.start <= start && start < group.end);
    const tag = entity ? `${entity === previous ? 'I' : 'B'}-${entity.entity_group}` : 'O';
    previous = entity;
    return tag;
  });
}

export function chunksOf(tags: readonly string[]): Set<string> {
  const chunks = new Set<string>();
  let type: string | undefined;
  let start = 0;
  const close = (end: number) => {
    if (type !== undefined) chunks.add(`${type}:${start}:${end}`);
    type = undefined;
  };
  tags.forEach((tag, index) => {
    const [boundary, label] = tag === 'O' ? ['O', undefined] : [tag.slice(0, 1), tag.slice(2)];
    if (boundary === 'O') close(index);
    else if (boundary === 'B' || label !== type) {
      close(index);
      type = label;
      start = index;
    }
  });
  close(tags.length);
  return chunks;
}

export interface Score {
  precision: number;
  recall: number;
  f1: number;
  gold: number;
  predicted: number;
  correct: number;
}

export function scoreEntities(gold: readonly (readonly string[])[], predicted: readonly (readonly string[])[]): Score {
  let goldCount = 0;
  let predictedCount = 0;
  let correct = 0;
  gold.forEach((tags, index) => {
    const expected = chunksOf(tags);
    const found = chunksOf(predicted[index]);
    goldCount += expected.size;
    predictedCount += found.size;
    for (const chunk of found) if (expected.has(chunk)) correct++;
  });
  const precision = predictedCount === 0 ? 0 : correct / predictedCount;
  const recall = goldCount === 0 ? 0 : correct / goldCount;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, gold: goldCount, predicted: predictedCount, correct };
}
