/** A deterministic generator of hostile and odd HTTP requests for the fuzz suite: same seed, same requests. */
import { createUniformSource } from '../fixtures/tiny-models/random.ts';

export interface FuzzRequest {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** A request that should be answered 200 (well-formed, small, valid parameters); others may be any 2xx or 4xx. */
  expectOk?: boolean;
}

/** Seeded (mulberry32, as the tiny models use), so a failure replays exactly. */
export function createRandom(seed: number) {
  const next = createUniformSource(seed);
  const integer = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  return { next, integer, pick, chance: (probability: number) => next() < probability };
}

type Random = ReturnType<typeof createRandom>;

const WORDS = ['I', 'love', 'this', 'movie', 'Angela', 'Merkel', 'Paris', 'Berlin', 'Google', 'was', 'boring', 'the', 'a', 'Once', 'upon', 'time', 'Lily', 'Tom', 'park', 'Ich', 'liebe', 'Buch', 'très', 'bien', '東京', 'Москва', 'قطة'];
const EMOJI = ['😀', '👍🏽', '👨‍👩‍👧‍👦', '🇩🇪', '❤️', '🤖', '\u{1F600}\u{FE0F}', '🏳️‍🌈'];
const CONTROL = ['\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u000b', '\u001b', '\u007f', '\u0085', '\u200b', '\u202e', '\ufeff', '\uffff'];
const LONE_SURROGATES = ['\ud800', '\udfff', '\ud83d', 'a\udc00b'];

function words(random: Random, count: number): string {
  return Array.from({ length: count }, () => random.pick(WORDS)).join(' ');
}

/** Text that is valid JSON string content but odd: emoji, control characters, lone surrogates, combining marks. */
function oddText(random: Random): string {
  const parts: string[] = [];
  const length = random.integer(0, 12);
  for (let index = 0; index < length; index++) {
    const choice = random.integer(0, 5);
    if (choice === 0) parts.push(random.pick(EMOJI));
    else if (choice === 1) parts.push(random.pick(CONTROL));
    else if (choice === 2) parts.push(random.pick(LONE_SURROGATES));
    else if (choice === 3) parts.push('e\u0301\u0308\u0323'.repeat(random.integer(1, 20)));
    else parts.push(words(random, random.integer(1, 5)));
  }
  return parts.join(random.pick(['', ' ', '\n']));
}

function randomJsonValue(random: Random, depth = 0): unknown {
  const choice = random.integer(0, depth > 3 ? 5 : 8);
  switch (choice) {
    case 0: return null;
    case 1: return random.chance(0.5);
    case 2: return random.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MIN_VALUE, 65, 4294967296]);
    case 3: return oddText(random);
    case 4: return '';
    case 5: return words(random, random.integer(1, 6));
    case 6: return Array.from({ length: random.integer(0, 4) }, () => randomJsonValue(random, depth + 1));
    case 7: return Object.fromEntries(Array.from({ length: random.integer(0, 3) }, () => [random.pick(['inputs', 'x', '__proto__', 'constructor', 'top_k', '']), randomJsonValue(random, depth + 1)]));
    default: return { inputs: randomJsonValue(random, depth + 1) };
  }
}

/** Parameters per task: mostly plausible values, with wrong types and out-of-range numbers mixed in. */
const PARAMETER_POOLS: Record<string, Record<string, unknown[]>> = {
  classify: { top_k: [1, 2, 3, 0, -1, 1.5, '2', null, 200, 1000], function_to_apply: ['softmax', 'sigmoid', 'exp', 'none', 'relu', '', 3], truncation: [true, false, 'yes'] },
  extract: { aggregation_strategy: ['none', 'simple', 'first', 'average', 'max', 'bogus', 1], ignore_labels: [[], ['O'], ['PER', 'LOC'], [1], 'O'], stride: [0, 4, 16, -1, 1.5, 1000] },
  summarize: { sentences: [1, 2, 3, 0, -1, 100, 2.5, '3'], max_new_tokens: [4, 8] },
  generate: {
    max_new_tokens: [1, 2, 3, 0, -1, 1.5, '2', 100_000, null],
    do_sample: [true, false, 'true'],
    temperature: [0, 0.5, 1, 2, -1, 1e9, 'hot'],
    top_k: [0, 1, 5, -2, 1e9],
    top_p: [0, 0.5, 1, 1.5, -0.1],
    seed: [0, 7, -1, 2 ** 53, 1.5, 'x'],
    stop: [['.'], [''], [], ['\u0000'], Array.from({ length: 20 }, () => 'a'), 'stop'],
    return_full_text: [true, false, 1],
    details: [true, false],
  },
};

/** Parameters every function of a task accepts, for requests meant to be answered 200. */
const VALID_PARAMETERS: Record<string, () => Record<string, unknown>> = {
  classify: () => ({ top_k: 1 }),
  extract: () => ({ aggregation_strategy: 'simple' }),
  summarize: () => ({ sentences: 1 }),
  generate: () => ({ max_new_tokens: 2, do_sample: false }),
};

/** The function a run of requests is for: its route name and its task (pools are per task, for any discovered function). */
export interface FuzzTarget {
  name: string;
  task: string;
  /** Its limit on texts per request: a well-formed list holds no more. */
  limits: { maxInputs: number };
}

const validParameters = (task: string) => VALID_PARAMETERS[task]?.() ?? {};

function randomParameters(random: Random, task: string): unknown {
  if (random.chance(0.1)) return randomJsonValue(random);
  const pool = PARAMETER_POOLS[task] ?? {};
  const parameters: Record<string, unknown> = {};
  for (const [key, values] of Object.entries(pool)) if (random.chance(0.35)) parameters[key] = random.pick(values);
  if (random.chance(0.1)) parameters[random.pick(['topk', 'max_tokens', 'unknown', 'wait_for_model', ''])] = randomJsonValue(random);
  // Generation stays cheap: whatever the case, a number of new tokens the test can afford on 2 cores.
  if (task === 'generate' && typeof parameters.max_new_tokens === 'number' && parameters.max_new_tokens > 3 && parameters.max_new_tokens <= 256) parameters.max_new_tokens = 3;
  if (task === 'generate' && !('max_new_tokens' in parameters)) parameters.max_new_tokens = random.integer(1, 3);
  return parameters;
}

function deepNesting(random: Random): string {
  const depth = random.pick([10, 100, 1000, 10_000, 50_000]);
  if (random.chance(0.5)) return `{"inputs":${'['.repeat(depth)}"x"${']'.repeat(depth)}}`;
  return `{"inputs":"hi","parameters":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
}

const INVALID_UTF8 = [[0xff], [0xfe, 0xff], [0xc3, 0x28], [0xe2, 0x28, 0xa1], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf], [0x80]];

function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

const jsonHeaders = { 'content-type': 'application/json' };

/** The next request of the fuzz run for one function. */
export function generateRequest(random: Random, target: FuzzTarget): FuzzRequest {
  const { task } = target;
  const path = `/${target.name}`;
  const kind = random.pick(['valid', 'valid', 'valid', 'random-parameters', 'random-parameters', 'malformed-json', 'wrong-types', 'huge-string', 'deep-nesting', 'invalid-utf8', 'odd-text', 'empty', 'unknown-fields', 'content-type', 'method', 'stream'] as const);
  const post = (body: Buffer, extra: Partial<FuzzRequest> = {}): FuzzRequest => ({ kind, method: 'POST', path, headers: jsonHeaders, body, ...extra });
  switch (kind) {
    case 'valid': {
      const text = words(random, random.integer(1, 20));
      const inputs = random.chance(0.3) ? Array.from({ length: random.integer(1, Math.min(4, target.limits.maxInputs)) }, () => words(random, random.integer(1, 12))) : text;
      const usable = task === 'summarize' || task === 'generate' ? text : inputs;
      return post(jsonBody({ inputs: usable, parameters: validParameters(task) }), { expectOk: true });
    }
    case 'random-parameters':
      return post(jsonBody({ inputs: random.chance(0.8) ? words(random, random.integer(1, 15)) : oddText(random), parameters: randomParameters(random, task) }));
    case 'malformed-json': {
      const valid = JSON.stringify({ inputs: words(random, 5), parameters: validParameters(task) });
      const broken = random.pick([
        valid.slice(0, random.integer(0, valid.length - 1)),
        valid.replace('"', "'"),
        valid + random.pick(['}', ',', ' x', '\u0000']),
        `{"inputs": ${random.pick(['NaN', 'Infinity', 'undefined', "'x'", '0x10', '01', '.5', '"\\x41"', '"\\u12"', '"a\nb"'])}}`,
        random.pick(['', ' ', 'null', 'true', '"inputs"', '[]', '{', '}', '{"inputs"}', '{"inputs":}', '{,}']),
        Buffer.from(Array.from({ length: random.integer(1, 64) }, () => random.integer(32, 126))).toString('latin1'),
      ]);
      return post(Buffer.from(broken));
    }
    case 'wrong-types':
      return post(jsonBody(random.chance(0.7) ? { inputs: randomJsonValue(random), parameters: randomJsonValue(random) } : randomJsonValue(random)));
    case 'huge-string': {
      // Up to just over the largest body limit; most are refused by size or token count, some truncated.
      // Long runs of words stay at 20 kB: a function that reads long text in windows (extract) would spend
      // seconds on each, and the point here is the refusal paths and limits, not throughput.
      const length = random.pick([20_000, 300_000, 1_100_000]);
      const inputs = length > 20_000 || random.chance(0.5) ? random.pick(['a', '😀', '\u0000']).repeat(length) : words(random, Math.ceil(length / 6)).slice(0, length);
      const parameters = task === 'classify' && random.chance(0.3) ? { truncation: true } : validParameters(task);
      return post(jsonBody({ inputs, parameters }));
    }
    case 'deep-nesting':
      return post(Buffer.from(deepNesting(random)));
    case 'invalid-utf8': {
      const prefix = Buffer.from('{"inputs":"I love ');
      const suffix = Buffer.from('this"}');
      return post(Buffer.concat([prefix, Buffer.from(random.pick(INVALID_UTF8)), suffix]));
    }
    case 'odd-text':
      return post(jsonBody({ inputs: random.chance(0.5) ? oddText(random) : [oddText(random), oddText(random)], parameters: validParameters(task) }));
    case 'empty':
      return post(jsonBody(random.pick([{ inputs: [] }, { inputs: [''] }, { inputs: '' }, { inputs: '   ' }, { inputs: '\n\t' }, { inputs: [[]] }, {}, { inputs: 'hi', parameters: {} }, { inputs: 'hi', parameters: [] }])));
    case 'unknown-fields':
      return post(jsonBody({ inputs: words(random, 4), [random.pick(['input', 'text', 'options', 'stream', 'extra', '__proto__'])]: randomJsonValue(random), parameters: validParameters(task) }));
    case 'content-type': {
      const contentType = random.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/json; charset=latin1', 'APPLICATION/JSON', 'application/json;', '', 'application/*']);
      const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
      return { kind, method: 'POST', path, headers, body: jsonBody({ inputs: words(random, 3), parameters: validParameters(task) }) };
    }
    case 'method': {
      const method = random.pick(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND']);
      const withBody = method !== 'GET' && method !== 'HEAD';
      return { kind, method, path: random.chance(0.8) ? path : `${path}/${random.pick(['x', '..', '%00', '%ff'])}`, headers: withBody ? jsonHeaders : {}, body: withBody ? jsonBody({ inputs: 'hi' }) : undefined };
    }
    case 'stream':
      return post(jsonBody({ inputs: words(random, random.integer(1, 6)), stream: random.pick([true, false, 'yes', 1]), parameters: validParameters(task) }));
  }
}
