import type { TokenBytes } from '../../text/token-bytes.ts';
import { continuationRange } from './json-frames.ts';

/**
 * The vocabulary's byte strings as a trie laid out in depth-first order: node `i` holds one byte at `depth[i]`,
 * its subtree ends before `skip[i]`, and `tokensAt` lists the ids whose bytes end there. Walking it with a parser
 * state skips a whole subtree on the first byte the state refuses, so a state that allows little costs little.
 */
export interface TokenTrie {
  readonly nodeCount: number;
  readonly bytes: Uint8Array;
  readonly depth: Uint16Array;
  readonly skip: Int32Array;
  /** Ids ending at each node: `tokenIds[tokenStart[i] .. tokenStart[i + 1])`. */
  readonly tokenStart: Int32Array;
  readonly tokenIds: Int32Array;
}

export function buildTokenTrie(entries: readonly { id: number; bytes: Uint8Array }[]): TokenTrie {
  const sorted = [...entries].sort((a, b) => {
    const length = Math.min(a.bytes.length, b.bytes.length);
    for (let index = 0; index < length; index++) if (a.bytes[index] !== b.bytes[index]) return a.bytes[index] - b.bytes[index];
    return a.bytes.length - b.bytes.length || a.id - b.id;
  });
  const bytes: number[] = [];
  const depth: number[] = [];
  const skip: number[] = [];
  const tokenLists: number[][] = [];
  // The path of open nodes: path[d] is the node at depth d + 1 on the current token's prefix.
  const path: number[] = [];
  let previous: Uint8Array = new Uint8Array(0);
  for (const { id, bytes: token } of sorted) {
    let shared = 0;
    while (shared < token.length && shared < previous.length && shared < path.length && token[shared] === previous[shared]) shared++;
    for (const closed of path.splice(shared)) skip[closed] = bytes.length;
    for (let index = shared; index < token.length; index++) {
      path.push(bytes.length);
      bytes.push(token[index]);
      depth.push(index + 1);
      skip.push(-1);
      tokenLists.push([]);
    }
    tokenLists[path[token.length - 1]].push(id);
    previous = token;
  }
  for (const closed of path) skip[closed] = bytes.length;
  const tokenStart = new Int32Array(bytes.length + 1);
  for (let node = 0; node < bytes.length; node++) tokenStart[node + 1] = tokenStart[node] + tokenLists[node].length;
  return {
    nodeCount: bytes.length,
    bytes: Uint8Array.from(bytes),
    depth: Uint16Array.from(depth),
    skip: Int32Array.from(skip),
    tokenStart,
    tokenIds: Int32Array.from(tokenLists.flat()),
  };
}

/**
 * What the constraint precomputes once per vocabulary: the full trie; the ids that are plain string content (no
 * quote, backslash or control byte, whole UTF-8 characters) with their length in characters; and a trie of the
 * other ids alone. Inside a string, the plain ones are allowed by their length alone and only the others are
 * walked, which is what keeps a string's mask cheap at a 152k vocabulary.
 */
export interface VocabularyIndex {
  readonly size: number;
  readonly trie: TokenTrie;
  readonly otherTrie: TokenTrie;
  /** Plain-content ids, shortest first, and their lengths in characters. */
  readonly contentIds: Int32Array;
  readonly contentLengths: Int32Array;
}

const contentMasks = new WeakMap<VocabularyIndex, Uint32Array[]>();

/**
 * A bit per plain-content id of at most `room` characters: what an open string without a pattern takes whole.
 * Made for every length at once with the index, each from the one before (a length no token has
 * shares its shorter neighbour's array): ~95 arrays of a bit per token at Qwen3's 152k (19 KB each, 1.8 MB), so
 * that a string's mask ORs words instead of setting 145k bits, and no new length costs a pass later.
 */
export function contentUpTo(index: VocabularyIndex, room: number): Uint32Array {
  let masks = contentMasks.get(index);
  if (!masks) {
    const { contentIds, contentLengths } = index;
    let mask = new Uint32Array(Math.ceil(index.size / 32));
    masks = [mask];
    for (let position = 0; position < contentIds.length; ) {
      const length = contentLengths[position];
      while (masks.length < length) masks.push(mask);
      mask = mask.slice();
      for (; position < contentIds.length && contentLengths[position] === length; position++) {
        const id = contentIds[position];
        mask[id >>> 5] |= 1 << (id & 31);
      }
      masks.push(mask);
    }
    contentMasks.set(index, masks);
  }
  return masks[Math.max(0, Math.min(room, masks.length - 1))];
}

/** Length in characters of a token that can sit inside any JSON string as it is, or -1. */
function measureStringContent(bytes: Uint8Array): number {
  let characters = 0;
  for (let index = 0; index < bytes.length; ) {
    const byte = bytes[index];
    const width = byte < 0x80 ? 1 : byte >= 0xc2 && byte <= 0xdf ? 2 : byte >= 0xe0 && byte <= 0xef ? 3 : byte >= 0xf0 && byte <= 0xf4 ? 4 : 0;
    if (width === 0 || byte < 0x20 || byte === 0x22 || byte === 0x5c || index + width > bytes.length) return -1;
    for (let continuation = 1; continuation < width; continuation++) {
      const [low, high] = continuationRange(continuation === 1 ? byte : 0);
      if (bytes[index + continuation] < low || bytes[index + continuation] > high) return -1;
    }
    index += width;
    characters++;
  }
  return characters;
}

const indexes = new WeakMap<TokenBytes, VocabularyIndex>();

export function indexVocabulary(vocabulary: TokenBytes): VocabularyIndex {
  const known = indexes.get(vocabulary);
  if (known) return known;
  const entries: { id: number; bytes: Uint8Array }[] = [];
  const others: { id: number; bytes: Uint8Array }[] = [];
  const content: { id: number; length: number }[] = [];
  for (let id = 0; id < vocabulary.size; id++) {
    const bytes = vocabulary.bytesOf(id);
    if (!bytes || bytes.length === 0) continue;
    entries.push({ id, bytes });
    const length = measureStringContent(bytes);
    if (length >= 0) content.push({ id, length });
    else others.push({ id, bytes });
  }
  content.sort((a, b) => a.length - b.length || a.id - b.id);
  const index: VocabularyIndex = {
    size: vocabulary.size,
    trie: buildTokenTrie(entries),
    otherTrie: buildTokenTrie(others),
    contentIds: Int32Array.from(content, (entry) => entry.id),
    contentLengths: Int32Array.from(content, (entry) => entry.length),
  };
  indexes.set(vocabulary, index);
  // The per-length content masks too: part of the vocabulary's precomputation, not of a first request's mask.
  contentUpTo(index, 0);
  return index;
}
