// A strict reading of Prometheus' text exposition format 0.0.4, written from the format's specification, for
// tests of what /metrics serves. Runtime-neutral: workerd runs it too. ./prometheus-reference-parser.ts is the other,
// independent reading.

export interface CheckedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface CheckedFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: CheckedSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const QUOTED = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const FLOAT = '[+-]?(?:Inf|NaN|(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL}=${QUOTED})(?:,${LABEL}=${QUOTED})*)?\\})? (${FLOAT})(?: (-?\\d+))?$`);
const LABEL_PAIR = new RegExp(`(${LABEL})=(${QUOTED})`, 'g');

const unescape = (quoted: string) => quoted.slice(1, -1).replace(/\\([\\"n])/g, (_, character: string) => (character === 'n' ? '\n' : character));
const unescapeHelp = (text: string) => text.replace(/\\([\\n])/g, (_, character: string) => (character === 'n' ? '\n' : character));

function parseValue(text: string): number {
  if (/^\+?Inf$/.test(text)) return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

const SUFFIXES: Record<CheckedFamily['type'], string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

/**
 * Parses exposition text, failing on anything the specification does not allow: a malformed line, a sample
 * before its family's HELP and TYPE, a family split or repeated, a duplicate series, or a histogram whose
 * buckets are not cumulative, ascending and closed by `+Inf` equal to `_count`.
 */
export function checkPrometheusText(text: string): CheckedFamily[] {
  if (!text.endsWith('\n')) throw new Error('exposition text must end with a line feed');
  const families: CheckedFamily[] = [];
  const seenSeries = new Set<string>();
  let current: CheckedFamily | undefined;
  let pendingHelp: { name: string; help: string } | undefined;
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      const where = `line ${index + 1} "${line}"`;
      let match: RegExpExecArray | null;
      if ((match = HELP_LINE.exec(line))) {
        if (families.some((family) => family.name === match![1])) throw new Error(`${where}: family ${match[1]} appears twice`);
        pendingHelp = { name: match[1], help: unescapeHelp(match[2]) };
      } else if ((match = TYPE_LINE.exec(line))) {
        if (pendingHelp?.name !== match[1]) throw new Error(`${where}: TYPE without the family's HELP just before it`);
        current = { name: match[1], help: pendingHelp.help, type: match[2] as CheckedFamily['type'], samples: [] };
        families.push(current);
        pendingHelp = undefined;
      } else if ((match = SAMPLE_LINE.exec(line))) {
        if (!current || !SUFFIXES[current.type].some((suffix) => match![1] === current!.name + suffix)) {
          throw new Error(`${where}: sample outside its family`);
        }
        const labels: Record<string, string> = {};
        for (const [, name, quoted] of (match[2] ?? '').matchAll(LABEL_PAIR)) {
          if (name in labels) throw new Error(`${where}: label ${name} twice`);
          labels[name] = unescape(quoted);
        }
        const key = `${match[1]}${JSON.stringify(Object.entries(labels).sort())}`;
        if (seenSeries.has(key)) throw new Error(`${where}: duplicate series`);
        seenSeries.add(key);
        current.samples.push({ name: match[1], labels, value: parseValue(match[3]) });
      } else {
        throw new Error(`${where}: not a HELP, TYPE or sample line`);
      }
    });
  for (const family of families) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function checkHistogram(family: CheckedFamily): void {
  const series = new Map<string, CheckedSample[]>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    if (sample.name.endsWith('_bucket') && le === undefined) throw new Error(`${family.name}: bucket without le`);
    const key = JSON.stringify(Object.entries(rest).sort());
    series.set(key, [...(series.get(key) ?? []), sample]);
  }
  for (const [key, samples] of series) {
    const buckets = samples.filter((sample) => sample.name.endsWith('_bucket'));
    const count = samples.find((sample) => sample.name.endsWith('_count'));
    const sum = samples.find((sample) => sample.name.endsWith('_sum'));
    if (!count || !sum || buckets.length === 0) throw new Error(`${family.name}${key}: needs buckets, _sum and _count`);
    const bounds = buckets.map((bucket) => parseValue(bucket.labels.le));
    if (bounds.at(-1) !== Infinity) throw new Error(`${family.name}${key}: last bucket must be le="+Inf"`);
    bounds.forEach((bound, index) => {
      if (index > 0 && !(bound > bounds[index - 1])) throw new Error(`${family.name}${key}: buckets not ascending`);
      if (index > 0 && buckets[index].value < buckets[index - 1].value) throw new Error(`${family.name}${key}: buckets not cumulative`);
    });
    if (buckets.at(-1)!.value !== count.value) throw new Error(`${family.name}${key}: +Inf bucket differs from _count`);
  }
}
