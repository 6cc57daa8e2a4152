import { assertLabelName, assertMetricName, escapeHelp, formatLabels, formatValue } from './prometheus-text.ts';

// A small metrics registry rendering Prometheus' text format. prom-client, the usual choice, depends on Node's
// process, cluster and perf_hooks modules and so cannot run in a Worker; this one uses nothing but the language.

/** One value per declared label name. */
export type LabelValues = Readonly<Record<string, string>>;

/** A metric's name, help text and label names. */
export interface MetricOptions {
  /** snake_case with the unit as suffix (`_seconds`, `_bytes`); counters end in `_total`. */
  name: string;
  help: string;
  labelNames?: readonly string[];
  /**
   * Labels a series may leave out, rendered only where given: `version` on request metrics, known only for requests
   * that reached a model version (a 400 or 401 never did).
   */
  optionalLabelNames?: readonly string[];
}

/** A Prometheus counter: a total that only goes up, per set of label values. */
export interface Counter {
  inc(labels?: LabelValues, amount?: number): void;
}

/** A Prometheus gauge: a value that goes up and down, per set of label values. */
export interface Gauge {
  set(labels: LabelValues, value: number): void;
  add(labels: LabelValues, delta: number): void;
}

/** A Prometheus histogram: observations counted into buckets, per set of label values. */
export interface Histogram {
  observe(labels: LabelValues, value: number): void;
}

/** A gauge's name, help and labels, and optionally a function that reads its value at each scrape. */
export interface GaugeOptions extends MetricOptions {
  /** Called before each render, to set values read at scrape time (memory, model load times). */
  collect?: (gauge: Gauge) => void;
}

/** A histogram's name, help, labels and bucket bounds. */
export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, ascending; `+Inf` is implied. */
  buckets: readonly number[];
}

/** The metrics a server exposes at `/metrics`. */
export interface MetricsRegistry {
  counter(options: MetricOptions): Counter;
  gauge(options: GaugeOptions): Gauge;
  histogram(options: HistogramOptions): Histogram;
  /** Every metric, in the order registered, as Prometheus text. */
  render(): string;
}

interface Family {
  name: string;
  render(lines: string[]): void;
}

/** Keeps one entry per distinct set of label values, in first-seen order. */
function createSeries<Entry>(metricName: string, labelNames: readonly string[], createEntry: () => Entry, optionalLabelNames: readonly string[] = []) {
  const series = new Map<string, { labels: [string, string][]; entry: Entry }>();
  const allNames = [...labelNames, ...optionalLabelNames];
  return {
    entry(labels: LabelValues = {}): Entry {
      // Called several times per request, so the key is a plain join; label values are checked when a series is new.
      let key = '';
      for (const name of allNames) key += `${labels[name]}\u0000`;
      let found = series.get(key);
      if (!found) {
        const values = labelNames.map((name) => {
          const value = labels[name];
          if (typeof value !== 'string') throw new Error(`metric ${metricName} needs a value for label "${name}"`);
          return value;
        });
        const optional = optionalLabelNames.filter((name) => labels[name] !== undefined).map((name): [string, string] => [name, String(labels[name])]);
        found = { labels: [...labelNames.map((name, index): [string, string] => [name, values[index]]), ...optional], entry: createEntry() };
        series.set(key, found);
      }
      if (Object.keys(labels).length !== found.labels.length) {
        throw new Error(`metric ${metricName} takes labels ${allNames.join(', ') || 'none'}, got ${Object.keys(labels).join(', ')}`);
      }
      return found.entry;
    },
    all: () => series.values(),
  };
}

function validateOptions({ name, labelNames = [], optionalLabelNames = [] }: MetricOptions): readonly string[] {
  assertMetricName(name);
  const allNames = [...labelNames, ...optionalLabelNames];
  allNames.forEach(assertLabelName);
  if (new Set(allNames).size !== allNames.length) throw new Error(`metric ${name} declares a label twice`);
  return labelNames;
}

const header = (lines: string[], { name, help }: MetricOptions, type: string) => {
  lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
};

/** An empty registry of Prometheus metrics, rendered in the text exposition format. */
export function createMetricsRegistry(): MetricsRegistry {
  const families: Family[] = [];
  const register = (family: Family) => {
    if (families.some((known) => known.name === family.name)) throw new Error(`metric ${family.name} is registered twice`);
    families.push(family);
  };

  return {
    counter(options) {
      const labelNames = validateOptions(options);
      const series = createSeries(options.name, labelNames, () => ({ value: 0 }), options.optionalLabelNames);
      register({
        name: options.name,
        render(lines) {
          header(lines, options, 'counter');
          for (const { labels, entry } of series.all()) lines.push(`${options.name}${formatLabels(labels)} ${formatValue(entry.value)}`);
        },
      });
      return {
        inc(labels, amount = 1) {
          if (!(amount >= 0)) throw new Error(`counter ${options.name} can only go up (got ${amount})`);
          series.entry(labels).value += amount;
        },
      };
    },

    gauge(options) {
      const labelNames = validateOptions(options);
      const series = createSeries(options.name, labelNames, () => ({ value: 0 }), options.optionalLabelNames);
      const gauge: Gauge = {
        set: (labels, value) => void (series.entry(labels).value = value),
        add: (labels, delta) => void (series.entry(labels).value += delta),
      };
      register({
        name: options.name,
        render(lines) {
          options.collect?.(gauge);
          header(lines, options, 'gauge');
          for (const { labels, entry } of series.all()) lines.push(`${options.name}${formatLabels(labels)} ${formatValue(entry.value)}`);
        },
      });
      return gauge;
    },

    histogram(options) {
      const labelNames = validateOptions(options);
      const bounds = [...options.buckets];
      if (bounds.length === 0 || bounds.some((bound, index) => !Number.isFinite(bound) || (index > 0 && bound <= bounds[index - 1]))) {
        throw new Error(`histogram ${options.name} needs finite, strictly ascending buckets`);
      }
      // One count per bucket plus the +Inf one; cumulated when rendered.
      const series = createSeries(options.name, labelNames, () => ({ counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 }), options.optionalLabelNames);
      register({
        name: options.name,
        render(lines) {
          header(lines, options, 'histogram');
          for (const { labels, entry } of series.all()) {
            let cumulative = 0;
            entry.counts.forEach((count, index) => {
              cumulative += count;
              const le = index < bounds.length ? formatValue(bounds[index]) : '+Inf';
              lines.push(`${options.name}_bucket${formatLabels([...labels, ['le', le]])} ${cumulative}`);
            });
            lines.push(`${options.name}_sum${formatLabels(labels)} ${formatValue(entry.sum)}`);
            lines.push(`${options.name}_count${formatLabels(labels)} ${entry.count}`);
          }
        },
      });
      return {
        observe(labels, value) {
          if (Number.isNaN(value)) return;
          const entry = series.entry(labels);
          const index = bounds.findIndex((bound) => value <= bound);
          entry.counts[index === -1 ? bounds.length : index] += 1;
          entry.sum += value;
          entry.count += 1;
        },
      };
    },

    render() {
      const lines: string[] = [];
      for (const family of families) family.render(lines);
      return `${lines.join('\n')}\n`;
    },
  };
}
