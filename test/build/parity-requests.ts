import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mirrorFolder } from '../support/shared-models.ts';

/** One request of the fixed parity set, and how to read its answer into something comparable. */
export interface ParityRequest {
  body: Record<string, unknown>;
  /** Streamed answers are read as their list of events. */
  stream?: boolean;
}

async function readArticle(path: string): Promise<string> {
  const raw = await readFile(join(mirrorFolder, 'datasets/bbc-news-summary/BBC News Summary/News Articles', path), 'utf8');
  return raw.replace(/\r/g, '').split('\n').slice(1).join('\n');
}

/**
 * The fixed inputs each task is asked on both targets. They cover batches, padding, several languages,
 * long documents and a greedy generation read token by token.
 */
export async function listParityRequests(task: string): Promise<ParityRequest[]> {
  switch (task) {
    case 'classify':
      return [
        { body: { inputs: ['I love this', 'I hate this', 'The movie was boring and far too long', 'ok'], parameters: { top_k: null } } },
        { body: { inputs: ['Ich liebe dieses Buch sehr.', 'Je pense donc je suis.', 'This is an English sentence.', 'Dit is een Nederlandse zin.'] } },
        { body: { inputs: 'An absolute masterpiece of a film, moving and funny', parameters: { function_to_apply: 'none' } } },
      ];
    case 'summarize':
      return [
        { body: { inputs: await readArticle('business/026.txt'), parameters: { return_scores: true } } },
        { body: { inputs: [await readArticle('sport/010.txt'), await readArticle('tech/005.txt')], parameters: { sentences: 2, return_scores: true } } },
      ];
    case 'extract':
      return [
        { body: { inputs: ['John Smith works for Google in London.', 'Angela Merkel met Emmanuel Macron in Paris on Monday.'] } },
        { body: { inputs: 'The European Union and the United Nations issued a joint statement from New York.' } },
      ];
    case 'generate':
      return [
        { body: { inputs: 'Once upon a time, there was a dog', parameters: { max_new_tokens: 24, do_sample: false } }, stream: true },
        { body: { inputs: 'Lily and Tom went to the', parameters: { max_new_tokens: 24, do_sample: false } } },
      ];
    default:
      return [];
  }
}

/** Sends one parity request; a streamed answer becomes the list of its server-sent events' data. */
export async function sendParityRequest(baseUrl: string, route: string, request: ParityRequest): Promise<{ status: number; answer: unknown }> {
  const response = await fetch(`${baseUrl}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request.stream ? { ...request.body, stream: true } : request.body),
  });
  if (!request.stream || !response.ok) return { status: response.status, answer: await response.json() };
  const events = (await response.text())
    .split(/\n\n+/)
    .flatMap((block) => block.split('\n').filter((line) => line.startsWith('data:')))
    .map((line) => JSON.parse(line.slice('data:'.length)));
  return { status: response.status, answer: events };
}

/** Every string, boolean and array length equal; every number within `tolerance` (so whole numbers equal). */
export function findDifferences(left: unknown, right: unknown, tolerance: number, path = '$'): string[] {
  if (typeof left === 'number' && typeof right === 'number') {
    return Math.abs(left - right) <= tolerance ? [] : [`${path}: ${left} vs ${right}`];
  }
  if (Array.isArray(left) && Array.isArray(right)) {
    if (left.length !== right.length) return [`${path}: ${left.length} items vs ${right.length}`];
    return left.flatMap((item, index) => findDifferences(item, right[index], tolerance, `${path}[${index}]`));
  }
  if (left && right && typeof left === 'object' && typeof right === 'object') {
    const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
    return keys.flatMap((key) => findDifferences((left as Record<string, unknown>)[key], (right as Record<string, unknown>)[key], tolerance, `${path}.${key}`));
  }
  return Object.is(left, right) ? [] : [`${path}: ${JSON.stringify(left)} vs ${JSON.stringify(right)}`];
}
