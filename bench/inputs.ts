import { readFileSync } from 'node:fs';
import { datasetPath } from './mirror.ts';

/** SST-2 test sentences (held out from the classifier's training), in file order. */
export function readSst2Sentences(count: number): string[] {
  const lines = readFileSync(datasetPath('sst2', 'test.tsv'), 'utf8').split('\n').slice(1);
  return lines
    .map((line) => line.split('\t')[0]?.trim() ?? '')
    .filter((sentence) => sentence.length > 0)
    .slice(0, count);
}

/**
 * CoNLL-2003 test sentences (eng.testb, held out from the NER model's training), words joined by spaces.
 * Fragments under 5 words are skipped so that requests look like running text, and sentences over 40 words
 * too: they can pass the model's 128 tokens, which honnx reads in several windows and the raw floor cannot.
 */
export function readConllSentences(count: number): string[] {
  const sentences: string[] = [];
  let words: string[] = [];
  const flush = () => {
    if (words.length >= 5 && words.length <= 40) sentences.push(words.join(' '));
    words = [];
  };
  for (const line of readFileSync(datasetPath('conll2003', 'test.txt'), 'utf8').split('\n')) {
    const word = line.split(' ')[0];
    if (!word || word === '-DOCSTART-') flush();
    else words.push(word);
    if (sentences.length >= count) break;
  }
  flush();
  return sentences.slice(0, count);
}
