import type { CharacterAutomaton } from './pattern-automaton.ts';
import type { TokenTrie, VocabularyIndex } from './token-trie.ts';

/**
 * The plain-content tokens (see `VocabularyIndex`) as a trie over one pattern's character classes rather than over
 * bytes: tokens whose characters fall in the same classes, one by one, step the pattern through the same states, so
 * they share one path. A wide class (email's `[A-Za-z0-9_%+-]`, `[^a-z]`) folds tens of thousands of tokens into a
 * few hundred nodes, and tokens with a character the pattern never takes are left out (a narrow pattern keeps few),
 * so a pattern state's content mask is a walk of those: xgrammar's precomputation of what a grammar position
 * accepts, done over a vocabulary compressed by the pattern's alphabet. Built once per pattern
 * and vocabulary; its size is bounded by the content tokens' characters (usually far below).
 */
export interface ContentClassTrie {
  /** `bytes` holds class numbers here (`Uint16Array`: a pattern has under 65,536 classes, else no trie is built). */
  readonly trie: Omit<TokenTrie, 'bytes'> & { readonly classes: Uint16Array };
  /** A code point of each class, which stands for all of it. */
  readonly representatives: Int32Array;
  /** Bytes held by the trie's arrays, for the bench's memory figure. */
  readonly bytes: number;
}

const MAX_CLASSES = 0xffff;

/** The class of each code point: a table for ASCII, a binary search over `classStarts` past it. */
function classifier(classStarts: Int32Array): (codePoint: number) => number {
  const search = (codePoint: number): number => {
    let low = 0;
    let high = classStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (classStarts[middle] <= codePoint) low = middle;
      else high = middle - 1;
    }
    return low;
  };
  const ascii = Uint16Array.from({ length: 0x80 }, (_, codePoint) => search(codePoint));
  return (codePoint) => (codePoint < 0x80 ? ascii[codePoint] : search(codePoint));
}

/**
 * The classes a trie depends on: their starts, and which the pattern takes. Patterns alike there (every `\d{n}`,
 * a format in two schemas' intersections) share one trie.
 */
const signatures = new WeakMap<CharacterAutomaton, string>();

function signatureOf(automaton: CharacterAutomaton): string {
  let signature = signatures.get(automaton);
  if (signature === undefined) {
    signature = Array.from(automaton.classStarts, (start) => (automaton.mayTake(start) ? start : -start - 1)).join(',');
    signatures.set(automaton, signature);
  }
  return signature;
}

/** Tries kept per vocabulary; past this many the cache starts again (each 1-600 KB at Qwen3's vocabulary). */
const CLASS_TRIE_LIMIT = 64;
const built = new WeakMap<VocabularyIndex, Map<string, ContentClassTrie | null>>();

/** The pattern's content class trie for this vocabulary (built on first use, then kept), or null past MAX_CLASSES. */
export function contentClassTrie(index: VocabularyIndex, automaton: CharacterAutomaton): ContentClassTrie | null {
  let perIndex = built.get(index);
  if (!perIndex) built.set(index, (perIndex = new Map()));
  const signature = signatureOf(automaton);
  const known = perIndex.get(signature);
  if (known !== undefined) return known;
  const trie = automaton.classStarts.length > MAX_CLASSES ? null : buildContentClassTrie(index, automaton);
  if (perIndex.size >= CLASS_TRIE_LIMIT) perIndex.clear();
  perIndex.set(signature, trie);
  return trie;
}

/**
 * Reads the vocabulary's byte trie once, depth-first: each node where a character completes moves to the child of
 * that character's class (made on first use), and the plain-content tokens ending there join that class node.
 * Bytes no plain-content token holds (quote, backslash, control, broken UTF-8), and characters the pattern never
 * takes, skip their subtree.
 */
function buildContentClassTrie(index: VocabularyIndex, automaton: CharacterAutomaton): ContentClassTrie {
  const { classStarts } = automaton;
  const classOf = classifier(classStarts);
  const { trie } = index;
  const isContent = new Uint8Array(index.size);
  for (const id of index.contentIds) isContent[id] = 1;
  // The class trie as it grows: node 0 is the root; children found by `parent * classCount + class`.
  const classCount = classStarts.length;
  const taken = Uint8Array.from(classStarts, (start) => (automaton.mayTake(start) ? 1 : 0));
  const childOf = new Map<number, number>();
  const nodeClass: number[] = [-1];
  const children: number[][] = [[]];
  const tokens: number[][] = [[]];
  // Per byte-trie depth: the class node after the last whole character, and the character still being read.
  const classNodeAt = [0];
  const pendingAt = [0];
  const codePointAt = [0];
  // Siblings in the byte trie mostly fall in one class (bytes sorted, classes ranges): the last lookup per depth.
  const lastKeyAt: number[] = [];
  const lastChildAt: number[] = [];
  for (let node = 0; node < trie.nodeCount; ) {
    const at = trie.depth[node];
    const byte = trie.bytes[node];
    let pending = pendingAt[at - 1];
    let codePoint = codePointAt[at - 1];
    if (pending === 0) {
      const width = byte < 0x20 || byte === 0x22 || byte === 0x5c ? 0 : byte < 0x80 ? 1 : byte >= 0xc2 && byte <= 0xdf ? 2 : byte >= 0xe0 && byte <= 0xef ? 3 : byte >= 0xf0 && byte <= 0xf4 ? 4 : 0;
      if (width === 0) {
        node = trie.skip[node];
        continue;
      }
      pending = width - 1;
      codePoint = byte & (width === 1 ? 0x7f : 0x7f >> width);
    } else {
      if ((byte & 0xc0) !== 0x80) {
        node = trie.skip[node];
        continue;
      }
      pending--;
      codePoint = (codePoint << 6) | (byte & 0x3f);
    }
    let classNode = classNodeAt[at - 1];
    if (pending === 0) {
      const characterClass = classOf(codePoint);
      // A character the pattern takes nowhere: no token holding it is ever allowed, so it leaves the trie.
      if (!taken[characterClass]) {
        node = trie.skip[node];
        continue;
      }
      const key = classNode * classCount + characterClass;
      let child = lastKeyAt[at] === key ? lastChildAt[at] : childOf.get(key);
      lastKeyAt[at] = key;
      if (child === undefined) {
        child = nodeClass.push(characterClass) - 1;
        children.push([]);
        tokens.push([]);
        children[classNode].push(child);
        childOf.set(key, child);
      }
      lastChildAt[at] = child;
      classNode = child;
      for (let position = trie.tokenStart[node]; position < trie.tokenStart[node + 1]; position++) {
        const id = trie.tokenIds[position];
        if (isContent[id]) tokens[classNode].push(id);
      }
    }
    classNodeAt[at] = classNode;
    pendingAt[at] = pending;
    codePointAt[at] = codePoint;
    node++;
  }
  return layOutClassTrie(nodeClass, children, tokens, classStarts);
}

/** The grown class trie in depth-first order, children by class, as `TokenTrie` lays out bytes. */
function layOutClassTrie(nodeClass: number[], children: number[][], tokens: number[][], classStarts: Int32Array): ContentClassTrie {
  const count = nodeClass.length - 1;
  const classes = new Uint16Array(count);
  const depth = new Uint16Array(count);
  const skip = new Int32Array(count);
  const tokenStart = new Int32Array(count + 1);
  const tokenIds = new Int32Array(tokens.reduce((sum, list) => sum + list.length, 0));
  let next = 0;
  const visit = (grown: number, at: number): void => {
    for (const child of children[grown].sort((a, b) => nodeClass[a] - nodeClass[b])) {
      const node = next++;
      classes[node] = nodeClass[child];
      depth[node] = at;
      tokenIds.set(tokens[child], tokenStart[node]);
      tokenStart[node + 1] = tokenStart[node] + tokens[child].length;
      visit(child, at + 1);
      skip[node] = next;
    }
  };
  visit(0, 1);
  const representatives = Int32Array.from(classStarts);
  const bytes = classes.byteLength + depth.byteLength + skip.byteLength + tokenStart.byteLength + tokenIds.byteLength + representatives.byteLength;
  return { trie: { nodeCount: count, classes, depth, skip, tokenStart, tokenIds }, representatives, bytes };
}

/**
 * Marks in `bits` the plain-content tokens a string may take next under its pattern: from automaton state `match`
 * with `count` characters written, every character steps the pattern and leaves room within `maxLength` for the
 * rest of a match (as `StringFrame` steps them). A class the state refuses skips its whole subtree.
 */
export function markPatternContent(classTrie: ContentClassTrie, automaton: CharacterAutomaton, match: number, count: number, maxLength: number, bits: Uint32Array): void {
  const { trie, representatives } = classTrie;
  const { classes, depth, skip, tokenStart, tokenIds, nodeCount } = trie;
  const matchAt = [match];
  for (let node = 0; node < nodeCount; ) {
    const at = depth[node];
    const characters = count + at;
    const next = characters > maxLength ? -1 : automaton.step(matchAt[at - 1], representatives[classes[node]]);
    if (next < 0 || characters + automaton.shortestRest(next) > maxLength) {
      node = skip[node];
      continue;
    }
    matchAt[at] = next;
    for (let position = tokenStart[node]; position < tokenStart[node + 1]; position++) {
      const id = tokenIds[position];
      bits[id >>> 5] |= 1 << (id & 31);
    }
    node++;
  }
}
