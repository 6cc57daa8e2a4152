import { RegExpParser, type AST } from '@eslint-community/regexpp';

/**
 * A JSON Schema `pattern` as an automaton over code points, which the string frame steps character by character.
 * States are determinized lazily (sets of NFA states interned on first use), and only states from which an accepting
 * one can still be reached exist, so a string under a pattern never walks into a dead end.
 */
export interface CharacterAutomaton {
  readonly start: number;
  /** The state after `codePoint`, or -1 when the pattern refuses it there. */
  step(state: number, codePoint: number): number;
  /** The characters so far match: the string may close here. */
  accepts(state: number): boolean;
  /**
   * Some code point in `[low, high]` may come next (a multi-byte character's first bytes narrow it to a range);
   * with `progress`, one that brings a match a character closer (all a string short of room may take). Never
   * stricter than `step`: a code point that steps (to a state of smaller `shortestRest`, with `progress`) makes
   * every range holding it allowed, so a token is allowed by its first bytes whenever its whole characters are
   * (the content class trie, which steps whole characters only, relies on it).
   */
  allowsRange(state: number, low: number, high: number, progress?: boolean): boolean;
  /** The fewest characters that still lead to a match (0 when it matches already): a `maxLength` must leave room. */
  shortestRest(state: number): number;
  /**
   * The pattern's character classes, as the first code point of each, ascending from 0: every code point of one
   * class steps every state alike, so a token's classes stand for its characters (see content-class-trie.ts).
   */
  readonly classStarts: Int32Array;
  /** Some state may take this code point: one it never takes rules out every token holding it, in any state. */
  mayTake(codePoint: number): boolean;
}

/** A pattern the automaton cannot express: the message says what is allowed (the grammar turns it into a 400). */
export class UnsupportedPatternError extends Error {}

export const SUPPORTED_PATTERN_FEATURES =
  'literals, escapes, character classes and ranges, ., \\d \\w \\s (and negations), groups, alternation, quantifiers (* + ? {n,m}), ^ and $ at the ends';

/** A range list over code points, sorted and merged. */
type Ranges = [number, number][];

const MAX_CODE_POINT = 0x10ffff;
/** NFA states a pattern may take (bounded repetition copies its body): bounds the compile's memory and time. */
const MAX_NFA_STATES = 20_000;

const LINE_TERMINATORS: Ranges = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];
const DIGITS: Ranges = [[0x30, 0x39]];
const WORD: Ranges = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
const SPACE: Ranges = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];

function mergeRanges(ranges: Ranges): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: Ranges = [];
  for (const [low, high] of sorted) {
    const last = merged.at(-1);
    if (last && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else merged.push([low, high]);
  }
  return merged;
}

function complementRanges(ranges: Ranges): Ranges {
  const complement: Ranges = [];
  let next = 0;
  for (const [low, high] of mergeRanges(ranges)) {
    if (low > next) complement.push([next, low - 1]);
    next = high + 1;
  }
  if (next <= MAX_CODE_POINT) complement.push([next, MAX_CODE_POINT]);
  return complement;
}

/** Thompson's construction: each state has epsilon moves and at most one character move. */
interface NfaState {
  epsilon: number[];
  ranges: Ranges | undefined;
  target: number;
}

interface Fragment {
  start: number;
  end: number;
}

class NfaBuilder {
  readonly states: NfaState[] = [];
  add(): number {
    if (this.states.length >= MAX_NFA_STATES) throw new UnsupportedPatternError(`is too large (over ${MAX_NFA_STATES} automaton states: lower its repetition counts)`);
    this.states.push({ epsilon: [], ranges: undefined, target: -1 });
    return this.states.length - 1;
  }
  characters(ranges: Ranges): Fragment {
    const start = this.add();
    const end = this.add();
    Object.assign(this.states[start], { ranges: mergeRanges(ranges), target: end });
    return { start, end };
  }
  empty(): Fragment {
    const start = this.add();
    return { start, end: start };
  }
  sequence(fragments: Fragment[]): Fragment {
    if (fragments.length === 0) return this.empty();
    for (let index = 1; index < fragments.length; index++) this.states[fragments[index - 1].end].epsilon.push(fragments[index].start);
    return { start: fragments[0].start, end: fragments.at(-1)!.end };
  }
  choice(fragments: Fragment[]): Fragment {
    const start = this.add();
    const end = this.add();
    for (const fragment of fragments) {
      this.states[start].epsilon.push(fragment.start);
      this.states[fragment.end].epsilon.push(end);
    }
    return { start, end };
  }
  /** `body` from `min` to `max` times (`max` Infinity: a loop), each copy built afresh by `build`. */
  repeat(build: () => Fragment, min: number, max: number): Fragment {
    const parts: Fragment[] = [];
    for (let count = 0; count < min; count++) parts.push(build());
    if (max === Infinity) {
      const body = build();
      const loop = this.add();
      const exit = this.add();
      this.states[loop].epsilon.push(body.start, exit);
      this.states[body.end].epsilon.push(loop);
      parts.push({ start: loop, end: exit });
    } else {
      // Each optional copy may be skipped to the end: a chain of (copy | nothing).
      const end = this.add();
      for (let count = min; count < max; count++) {
        const body = build();
        const entry = this.add();
        this.states[entry].epsilon.push(body.start, end);
        parts.push({ start: entry, end: body.end });
      }
      parts.push({ start: end, end });
    }
    return this.sequence(parts);
  }
}

function describeUnsupported(node: AST.Node): never {
  if (node.type === 'Backreference') throw new UnsupportedPatternError(`uses a backreference (${node.raw}), which no automaton can check; supported: ${SUPPORTED_PATTERN_FEATURES}`);
  if (node.type === 'Assertion') {
    const what = node.kind === 'lookahead' || node.kind === 'lookbehind' ? `a ${node.kind} (${node.raw})` : node.kind === 'word' ? `a word boundary (${node.raw})` : `an anchor inside the pattern (${node.raw})`;
    throw new UnsupportedPatternError(`uses ${what}; supported: ${SUPPORTED_PATTERN_FEATURES}`);
  }
  throw new UnsupportedPatternError(`uses ${node.raw}, which is not supported; supported: ${SUPPORTED_PATTERN_FEATURES}`);
}

function readCharacterSet(node: AST.CharacterSet): Ranges {
  if (node.kind === 'any') return complementRanges(LINE_TERMINATORS);
  if (node.kind === 'property') return describeUnsupported(node);
  const ranges = node.kind === 'digit' ? DIGITS : node.kind === 'word' ? WORD : SPACE;
  return node.negate ? complementRanges(ranges) : ranges;
}

function readClass(node: AST.CharacterClass): Ranges {
  const ranges: Ranges = [];
  for (const element of node.elements) {
    if (element.type === 'Character') ranges.push([element.value, element.value]);
    else if (element.type === 'CharacterClassRange') ranges.push([element.min.value, element.max.value]);
    else if (element.type === 'CharacterSet') ranges.push(...readCharacterSet(element));
    else describeUnsupported(element);
  }
  return node.negate ? complementRanges(ranges) : mergeRanges(ranges);
}

function buildElement(builder: NfaBuilder, node: AST.Element): Fragment {
  switch (node.type) {
    case 'Character':
      return builder.characters([[node.value, node.value]]);
    case 'CharacterSet':
      return builder.characters(readCharacterSet(node));
    case 'CharacterClass':
      return builder.characters(readClass(node));
    case 'Group':
    case 'CapturingGroup':
      return buildAlternatives(builder, node.alternatives);
    case 'Quantifier':
      return builder.repeat(() => buildElement(builder, node.element), node.min, node.max);
    default:
      return describeUnsupported(node);
  }
}

function buildAlternatives(builder: NfaBuilder, alternatives: readonly AST.Alternative[]): Fragment {
  const fragments = alternatives.map((alternative) => builder.sequence(alternative.elements.map((element) => buildElement(builder, element))));
  return fragments.length === 1 ? fragments[0] : builder.choice(fragments);
}

/** The pattern's top-level alternatives, each unanchored end (JSON Schema patterns match anywhere) made `[^]*`. */
function buildPattern(builder: NfaBuilder, pattern: AST.Pattern): Fragment {
  const anything = () => builder.repeat(() => builder.characters([[0, MAX_CODE_POINT]]), 0, Infinity);
  const fragments = pattern.alternatives.map((alternative) => {
    const elements = [...alternative.elements];
    const first = elements[0];
    const anchoredStart = first?.type === 'Assertion' && first.kind === 'start';
    if (anchoredStart) elements.shift();
    const last = elements.at(-1);
    const anchoredEnd = last?.type === 'Assertion' && last.kind === 'end';
    if (anchoredEnd) elements.pop();
    const parts = elements.map((element) => buildElement(builder, element));
    return builder.sequence([...(anchoredStart ? [] : [anything()]), ...parts, ...(anchoredEnd ? [] : [anything()])]);
  });
  return fragments.length === 1 ? fragments[0] : builder.choice(fragments);
}

/**
 * Compiles a JSON Schema `pattern` (ECMA-262 syntax, read with the `u` flag as JSON Schema validators run it) into a
 * character automaton. Throws `UnsupportedPatternError` for what no finite automaton can check (backreferences,
 * lookaround, word boundaries, anchors inside the pattern) and for syntax errors, saying what is allowed.
 */
export function compilePattern(source: string): CharacterAutomaton {
  let pattern: AST.Pattern;
  try {
    pattern = new RegExpParser({ ecmaVersion: 2024 }).parsePattern(source, 0, source.length, { unicode: true });
  } catch (error) {
    throw new UnsupportedPatternError(`is not a valid regular expression: ${(error as Error).message}`);
  }
  const builder = new NfaBuilder();
  const { start, end } = buildPattern(builder, pattern);
  const automaton = determinize(builder.states, start, end);
  if (automaton.start < 0) throw new UnsupportedPatternError('matches no string at all');
  return automaton;
}

/** The intersection of two automata: a string must match both (`pattern` and `format` on one string). */
export function intersectAutomata(first: CharacterAutomaton, second: CharacterAutomaton): CharacterAutomaton {
  const pairs: [number, number][] = [];
  const ids = new Map<string, number>();
  const intern = (a: number, b: number) => {
    const key = `${a},${b}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = pairs.push([a, b]) - 1;
      ids.set(key, id);
    }
    return id;
  };
  return {
    start: intern(first.start, second.start),
    step(state, codePoint) {
      const [a, b] = pairs[state];
      const nextA = first.step(a, codePoint);
      const nextB = nextA < 0 ? -1 : second.step(b, codePoint);
      return nextB < 0 ? -1 : intern(nextA, nextB);
    },
    accepts: (state) => first.accepts(pairs[state][0]) && second.accepts(pairs[state][1]),
    // Each allows something in the range; both together may not, which a step then refuses (a rare dead end).
    // Closer means the larger rest shrinks: only a part with that rest must get closer, the other only go on.
    allowsRange(state, low, high, progress) {
      const [a, b] = pairs[state];
      const rest = progress ? Math.max(first.shortestRest(a), second.shortestRest(b)) : -1;
      return first.allowsRange(a, low, high, first.shortestRest(a) === rest) && second.allowsRange(b, low, high, second.shortestRest(b) === rest);
    },
    // A lower bound: each needs at least its own rest.
    shortestRest: (state) => Math.max(first.shortestRest(pairs[state][0]), second.shortestRest(pairs[state][1])),
    classStarts: mergeClassStarts([first.classStarts, second.classStarts]),
    mayTake: (codePoint) => first.mayTake(codePoint) && second.mayTake(codePoint),
  };
}

/** The class starts that split code points wherever one of the lists starts or ends a range. */
function mergeClassStarts(lists: readonly ArrayLike<number>[]): Int32Array {
  const starts = new Set<number>([0]);
  for (const list of lists) for (let index = 0; index < list.length; index++) if (list[index] <= MAX_CODE_POINT) starts.add(list[index]);
  return Int32Array.from(starts).sort();
}

function determinize(states: readonly NfaState[], start: number, end: number): CharacterAutomaton {
  // Only states from which the end can be reached: a set of them always has a way to a match.
  const live = new Uint8Array(states.length);
  const reverse: number[][] = states.map(() => []);
  states.forEach((state, from) => {
    for (const to of state.epsilon) reverse[to].push(from);
    if (state.ranges && state.ranges.length > 0) reverse[state.target].push(from);
  });
  const queue = [end];
  live[end] = 1;
  while (queue.length > 0) for (const from of reverse[queue.pop()!]) if (!live[from]) queue.push(from), (live[from] = 1);
  // Characters from each state to the end, fewest first: Dijkstra with costs 0 (epsilon) and 1 (a character),
  // as rounds of one more character, each round spreading first over the moves that cost nothing.
  const weighted: [number, number][][] = states.map(() => []);
  states.forEach((state, from) => {
    for (const to of state.epsilon) weighted[to].push([from, 0]);
    if (state.ranges && state.ranges.length > 0) weighted[state.target].push([from, 1]);
  });
  const distance = new Float64Array(states.length).fill(Infinity);
  distance[end] = 0;
  let round = [end];
  for (let cost = 0; round.length > 0; cost++) {
    const next: number[] = [];
    for (let position = 0; position < round.length; position++) {
      const to = round[position];
      if (distance[to] !== cost) continue;
      for (const [from, weight] of weighted[to]) {
        if (cost + weight >= distance[from]) continue;
        distance[from] = cost + weight;
        (weight === 0 ? round : next).push(from);
      }
    }
    round = next;
  }
  const closure = (seeds: Iterable<number>): number[] => {
    const seen = new Set<number>();
    const stack = [...seeds].filter((state) => live[state]);
    while (stack.length > 0) {
      const state = stack.pop()!;
      if (seen.has(state)) continue;
      seen.add(state);
      for (const next of states[state].epsilon) if (live[next] && !seen.has(next)) stack.push(next);
    }
    return [...seen].sort((a, b) => a - b);
  };

  const sets: number[][] = [];
  const accepting: boolean[] = [];
  const outgoing: Ranges[] = [];
  const rests: number[] = [];
  const progressing: Ranges[] = [];
  const transitions: Map<number, number>[] = [];
  const ids = new Map<string, number>();
  const intern = (set: number[]): number => {
    if (set.length === 0) return -1;
    const key = set.join(',');
    let id = ids.get(key);
    if (id === undefined) {
      id = sets.push(set) - 1;
      ids.set(key, id);
      accepting.push(set.includes(end));
      const rest = Math.min(...set.map((state) => distance[state]));
      rests.push(rest);
      transitions.push(new Map());
    }
    return id;
  };

  const taken = mergeRanges(states.flatMap((state) => (state.ranges && live[state.target] ? state.ranges : [])));
  return {
    start: intern(closure([start])),
    step(state, codePoint) {
      const cached = transitions[state].get(codePoint);
      if (cached !== undefined) return cached;
      const targets: number[] = [];
      for (const member of sets[state]) {
        const { ranges, target } = states[member];
        if (ranges && live[target] && ranges.some(([low, high]) => codePoint >= low && codePoint <= high)) targets.push(target);
      }
      const next = intern(closure(targets));
      transitions[state].set(codePoint, next);
      return next;
    },
    accepts: (state) => accepting[state],
    allowsRange(state, low, high, progress) {
      // Made on first use: a walk of whole characters (the content class trie) never asks for them.
      const set = sets[state];
      const ranges = progress
        ? (progressing[state] ??= mergeRanges(set.flatMap((member) => (states[member].ranges && distance[states[member].target] === rests[state] - 1 ? states[member].ranges! : []))))
        : (outgoing[state] ??= mergeRanges(set.flatMap((member) => (states[member].ranges && live[states[member].target] ? states[member].ranges! : []))));
      return ranges.some(([from, to]) => from <= high && to >= low);
    },
    shortestRest: (state) => rests[state],
    classStarts: mergeClassStarts(states.filter((state) => state.ranges).map((state) => state.ranges!.flatMap(([low, high]) => [low, high + 1]))),
    mayTake: (codePoint) => taken.some(([low, high]) => codePoint >= low && codePoint <= high),
  };
}
