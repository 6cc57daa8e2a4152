// The pieces of Prometheus' text exposition format 0.0.4 that need care: escaping and number spelling.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function assertMetricName(name: string): void {
  if (!METRIC_NAME.test(name)) throw new Error(`"${name}" is not a valid Prometheus metric name`);
}

export function assertLabelName(name: string): void {
  // Names starting with "__" are reserved for Prometheus itself; "le" belongs to histogram buckets.
  if (!LABEL_NAME.test(name) || name.startsWith('__') || name === 'le') throw new Error(`"${name}" is not a label name a metric may declare`);
}

/** HELP text escapes backslash and line feed only. */
export const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** Label values also escape the double quote that delimits them. */
export const escapeLabelValue = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Go's ParseFloat reads what JavaScript's String(number) writes, except for the infinities. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** `{name="value",...}`, or nothing when there are no labels. */
export function formatLabels(labels: readonly (readonly [string, string])[]): string {
  if (labels.length === 0) return '';
  return `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}
