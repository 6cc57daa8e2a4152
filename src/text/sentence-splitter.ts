/**
 * Splits a document into sentences: paragraphs on line breaks, then after `.`, `!` or `?` (with any closing
 * quotes or brackets) that a space follows. This is the splitter the extractive BBC model was trained with
 * (its config.json `sentence_scoring.sentence_splitter`); scores match its published ones only with it.
 */
const SENTENCE_END = /[.!?]["'\u201d\u2019)\]]*(?=\s)/g;

export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  for (const paragraph of text.replace(/\r/g, '').split(/\n+/)) {
    let start = 0;
    for (const match of paragraph.matchAll(SENTENCE_END)) {
      const end = match.index + match[0].length;
      const sentence = paragraph.slice(start, end).trim();
      if (sentence) sentences.push(sentence);
      start = end;
    }
    const rest = paragraph.slice(start).trim();
    if (rest) sentences.push(rest);
  }
  return sentences;
}
