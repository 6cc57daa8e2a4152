import { advance, END, isAccepting, push, StringFrame, stackKey, type Frame, type Stack } from './json-frames.ts';
import { contentClassTrie, markPatternContent } from './content-class-trie.ts';
import { contentUpTo, type TokenTrie, type VocabularyIndex } from './token-trie.ts';

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
  advanceInto(states, byte, out);
  return out;
}

/** `advanceAll` into `out`, emptied first: a trie walk reuses one array per depth rather than making one per node. */
function advanceInto(states: readonly Stack[], byte: number, out: Stack[]): void {
  out.length = 0;
  for (const state of states) advance(state, byte, out);
  if (out.length < 2) return;
  const seen = new Set<string>();
  let kept = 0;
  for (const stack of out) {
    const key = stackKey(stack);
    if (seen.has(key)) continue;
    seen.add(key);
    out[kept++] = stack;
  }
  out.length = kept;
}

/**
 * Marks in `bits` every token in the trie nodes `[from, to)` (a whole subtree, or the whole trie) whose bytes the
 * states can read, the states being those before the first node's byte. `boundary`, when given, is told of each node
 * whose byte reached it (see `FrameMask`).
 */
function walkNodes(trie: TokenTrie, from: number, to: number, states: readonly Stack[], bits: Uint32Array, boundary?: Boundary): void {
  // statesAt[d]: the stacks after the bytes of the current path down to depth d; the caller's array is only read.
  const statesAt: (readonly Stack[])[] = [];
  statesAt[trie.depth[from] - 1] = states;
  const scratch: Stack[][] = [];
  for (let node = from; node < to; ) {
    const depth = trie.depth[node];
    if (boundary) boundary.reached = false;
    const next = (scratch[depth] ??= []);
    advanceInto(statesAt[depth - 1], trie.bytes[node], next);
    if (boundary?.reached) boundary.nodes.push(node);
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

/**
 * What stands for the rest of the stack while a frame's mask is computed alone: a byte that reaches it is one the
 * frame below the top would read, so the node it came at is noted for the real stack to walk on from.
 */
class Boundary implements Frame {
  readonly key = 'boundary';
  readonly canEnd = false;
  reached = false;
  readonly nodes: number[] = [];
  next(): void {
    this.reached = true;
  }
}

/**
 * A top frame's share of a mask, as xgrammar's adaptive token mask cache splits it: the tokens it accepts whatever is
 * below it (they end inside the frame, or exactly where it ends: context-independent), and the trie nodes where a
 * token goes on past the frame's end, whose subtrees the frame below must read (context-dependent). It depends on
 * the frame's key alone, so it is cached per grammar and shared by every stack with that frame on top (a key
 * string's frame is the same in every object at any depth).
 */
export interface FrameMask {
  readonly accepted: Uint32Array;
  readonly trie: TokenTrie;
  /** Nodes of `trie` whose byte the frame below reads (after the top frame ended on the bytes before). */
  readonly boundaryNodes: Int32Array;
}

/** A frame that is only "inside a string, between characters", whose plain-content tokens need no byte walk. */
function readOpenString(frame: Frame): StringFrame | undefined {
  return frame instanceof StringFrame && frame.state === 0 && frame.pending === 0 ? frame : undefined;
}

/**
 * Marks the plain-content tokens an open string takes: without a pattern, by their length alone; under one, by a
 * walk of the pattern's content class trie. Returns false where no such trie exists (the byte walk then decides).
 */
function markOpenStringContent(index: VocabularyIndex, frame: StringFrame, accepted: Uint32Array): boolean {
  const { pattern, maxLength } = frame.node;
  if (pattern) {
    const classTrie = contentClassTrie(index, pattern);
    if (!classTrie) return false;
    markPatternContent(classTrie, pattern, frame.match, frame.count, maxLength, accepted);
    return true;
  }
  const content = contentUpTo(index, frame.room);
  for (let word = 0; word < accepted.length; word++) accepted[word] |= content[word];
  return true;
}

export function computeFrameMask(index: VocabularyIndex, frame: Frame): FrameMask {
  const accepted = new Uint32Array(Math.ceil(index.size / 32));
  const openString = readOpenString(frame);
  // Plain content stays inside the string: marked without a byte walk; only the other tokens are walked.
  const trie = openString && markOpenStringContent(index, openString, accepted) ? index.otherTrie : index.trie;
  return walkFrame(trie, frame, accepted);
}

/** The frame mask by a byte walk of the whole trie, without shortcuts: what the tests hold `computeFrameMask` to. */
export function walkFrameMask(index: VocabularyIndex, frame: Frame): FrameMask {
  return walkFrame(index.trie, frame, new Uint32Array(Math.ceil(index.size / 32)));
}

function walkFrame(trie: TokenTrie, frame: Frame, accepted: Uint32Array): FrameMask {
  const boundary = new Boundary();
  walkNodes(trie, 0, trie.nodeCount, [push(frame, push(boundary, push(END, null)))], accepted, boundary);
  return { accepted, trie, boundaryNodes: Int32Array.from(boundary.nodes) };
}

/** Frame masks kept per grammar; past this many the cache starts again (each is a bit per token: 19 KB at 152k). */
const FRAME_CACHE_LIMIT = 512;

/**
 * The mask of a parser state (its stacks): each stack's top-frame mask (cached by frame key), plus the tokens that
 * go on past the top frame's end, walked from the frame below only in the subtrees where that happens. A state
 * seen for the first time thus costs a walk of those few subtrees, not of the vocabulary.
 */
export function computeTokenMask(index: VocabularyIndex, states: readonly Stack[], endIds: readonly number[], frameMasks = new Map<string, FrameMask>()): TokenMask {
  const bits = new Uint32Array(Math.ceil(index.size / 32));
  for (const stack of states) {
    // The bottom alone: the document is done, nothing more may be read.
    if (!stack.parent) continue;
    let frameMask = frameMasks.get(stack.frame.key);
    if (!frameMask) {
      frameMask = computeFrameMask(index, stack.frame);
      if (frameMasks.size >= FRAME_CACHE_LIMIT) frameMasks.clear();
      frameMasks.set(stack.frame.key, frameMask);
    }
    const { accepted, trie, boundaryNodes } = frameMask;
    for (let word = 0; word < bits.length; word++) bits[word] |= accepted[word];
    const below = [stack.parent];
    for (const node of boundaryNodes) walkNodes(trie, node, trie.skip[node], below, bits);
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
