import { advance, isAccepting, StringFrame, stackKey, type Stack } from './json-frames.ts';
import type { TokenTrie, VocabularyIndex } from './token-trie.ts';

/** The ids allowed in one parser state: a bit per id, and the list itself when it is short. */
export interface TokenMask {
  readonly bits: Uint32Array;
  readonly count: number;
  /** The allowed ids ascending, kept when they are few (a sampler then looks at them alone). */
  readonly ids: Int32Array | undefined;
  /** The document may end here (end-of-sequence is allowed). */
  readonly accepting: boolean;
}

/** Masks up to this share of the vocabulary keep their id list. */
const SHORT_MASK_SHARE = 1 / 16;

/** The stacks a state leads to through `byte`, with duplicates (same key) dropped when there are several. */
export function advanceAll(states: readonly Stack[], byte: number): Stack[] {
  const out: Stack[] = [];
  for (const state of states) advance(state, byte, out);
  if (out.length < 2) return out;
  const seen = new Set<string>();
  return out.filter((stack) => {
    const key = stackKey(stack);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Marks in `bits` every token of `trie` whose bytes the states can read from start to end. */
function walkTrie(trie: TokenTrie, states: readonly Stack[], bits: Uint32Array): void {
  const statesAt: (readonly Stack[])[] = [states];
  for (let node = 0; node < trie.nodeCount; ) {
    const depth = trie.depth[node];
    const next = advanceAll(statesAt[depth - 1], trie.bytes[node]);
    if (next.length === 0) {
      node = trie.skip[node];
      continue;
    }
    statesAt[depth] = next;
    for (let index = trie.tokenStart[node]; index < trie.tokenStart[node + 1]; index++) {
      const id = trie.tokenIds[index];
      bits[id >>> 5] |= 1 << (id & 31);
    }
    node++;
  }
}

/** A state that is only "inside a string, between characters": its plain-content tokens need no walk. */
function readOpenString(states: readonly Stack[]): StringFrame | undefined {
  if (states.length !== 1) return undefined;
  const frame = states[0].frame;
  return frame instanceof StringFrame && frame.state === 0 && frame.pending === 0 ? frame : undefined;
}

export function computeTokenMask(index: VocabularyIndex, states: readonly Stack[], endIds: readonly number[]): TokenMask {
  const bits = new Uint32Array(Math.ceil(index.size / 32));
  const openString = readOpenString(states);
  if (openString) {
    const room = openString.room;
    const { contentIds, contentLengths } = index;
    for (let position = 0; position < contentIds.length && contentLengths[position] <= room; position++) {
      const id = contentIds[position];
      bits[id >>> 5] |= 1 << (id & 31);
    }
    walkTrie(index.otherTrie, states, bits);
  } else {
    walkTrie(index.trie, states, bits);
  }
  const accepting = states.some(isAccepting);
  if (accepting) for (const id of endIds) if (id >= 0 && id < index.size) bits[id >>> 5] |= 1 << (id & 31);
  let count = 0;
  for (const word of bits) count += popCount(word);
  let ids: Int32Array | undefined;
  if (count <= index.size * SHORT_MASK_SHARE) {
    ids = new Int32Array(count);
    let position = 0;
    for (let word = 0; word < bits.length; word++) {
      for (let value = bits[word]; value !== 0; value &= value - 1) ids[position++] = word * 32 + (31 - Math.clz32(value & -value));
    }
  }
  return { bits, count, ids, accepting };
}

function popCount(word: number): number {
  let value = word - ((word >>> 1) & 0x55555555);
  value = (value & 0x33333333) + ((value >>> 2) & 0x33333333);
  return (((value + (value >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
