import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/http/metrics/registry.ts';
import { parseWithReference } from './prometheus-reference-parser.ts';
import { checkPrometheusText } from './prometheus-text-format.ts';

/** Label values that need every escape the format has: backslash, double quote, line feed; and non-ASCII. */
const AWKWARD = 'a\\b "quoted"\nnext line ünïcödé';

function buildRegistry() {
  const registry = createMetricsRegistry();
  const requests = registry.counter({ name: 'test_requests_total', help: 'Requests, with a \\ and a\nline feed in the help.', labelNames: ['function', 'status'] });
  requests.inc({ function: 'classify', status: '200' });
  requests.inc({ function: 'classify', status: '200' }, 2);
  requests.inc({ function: AWKWARD, status: '401' });
  const depth = registry.gauge({ name: 'test_queue_depth', help: 'Depth.', labelNames: ['function'] });
  depth.set({ function: 'classify' }, 5);
  depth.add({ function: 'classify' }, -2);
  registry.gauge({ name: 'test_collected', help: 'Read at scrape.', collect: (gauge) => gauge.set({}, 1.5e-7) });
  const latency = registry.histogram({ name: 'test_latency_seconds', help: 'Latency.', labelNames: ['function'], buckets: [0.01, 0.1, 1] });
  for (const seconds of [0.003, 0.02, 0.02, 7]) latency.observe({ function: 'classify' }, seconds);
  // A value on a bound belongs to that bucket: buckets count observations less than or equal to `le`.
  latency.observe({ function: 'extract' }, 0.1);
  registry.histogram({ name: 'test_unused_seconds', help: 'Never observed.', buckets: [1] });
  return registry;
}

describe('the metrics registry renders Prometheus text format 0.0.4', () => {
  it('passes a strict reading of the format, with the values put in', () => {
    const families = checkPrometheusText(buildRegistry().render());
    expect(families.map((family) => [family.name, family.type])).toEqual([
      ['test_requests_total', 'counter'],
      ['test_queue_depth', 'gauge'],
      ['test_collected', 'gauge'],
      ['test_latency_seconds', 'histogram'],
      ['test_unused_seconds', 'histogram'],
    ]);
    expect(families[0].help).toBe('Requests, with a \\ and a\nline feed in the help.');
    expect(families[0].samples).toEqual([
      { name: 'test_requests_total', labels: { function: 'classify', status: '200' }, value: 3 },
      { name: 'test_requests_total', labels: { function: AWKWARD, status: '401' }, value: 1 },
    ]);
    expect(families[1].samples).toEqual([{ name: 'test_queue_depth', labels: { function: 'classify' }, value: 3 }]);
    expect(families[2].samples[0].value).toBe(1.5e-7);
    // By hand: 0.003 ≤ 0.01; 0.02, 0.02 ≤ 0.1; 7 only in +Inf.
    const classify = families[3].samples.filter((sample) => sample.labels.function === 'classify');
    expect(classify.map((sample) => [sample.name, sample.labels.le, sample.value])).toEqual([
      ['test_latency_seconds_bucket', '0.01', 1],
      ['test_latency_seconds_bucket', '0.1', 3],
      ['test_latency_seconds_bucket', '1', 3],
      ['test_latency_seconds_bucket', '+Inf', 4],
      ['test_latency_seconds_sum', undefined, expect.closeTo(7.043, 12)],
      ['test_latency_seconds_count', undefined, 4],
    ]);
    const extract = families[3].samples.filter((sample) => sample.labels.function === 'extract' && sample.name.endsWith('_bucket'));
    expect(extract.map((sample) => sample.value)).toEqual([0, 1, 1, 1]);
    expect(families[4].samples).toEqual([]);
  });

  it('is read by an independent parser (parse-prometheus-text-format) as written', () => {
    const families = parseWithReference(buildRegistry().render());
    const byName = Object.fromEntries(families.map((family) => [family.name, family]));
    expect(byName.test_requests_total.type).toBe('COUNTER');
    expect(byName.test_requests_total.metrics).toEqual([
      { labels: { function: 'classify', status: '200' }, value: '3' },
      { labels: { function: AWKWARD, status: '401' }, value: '1' },
    ]);
    expect(byName.test_requests_total.help).toBe('Requests, with a \\ and a\nline feed in the help.');
    expect(Number(byName.test_queue_depth.metrics[0].value)).toBe(3);
    expect(Number(byName.test_collected.metrics[0].value)).toBe(1.5e-7);
    expect(byName.test_latency_seconds.type).toBe('HISTOGRAM');
    // The parser folds a histogram's label sets into one (a limit of the library): its buckets are checked by the
    // strict reading above.
  });

  it('refuses what would render an invalid exposition', () => {
    const registry = createMetricsRegistry();
    expect(() => registry.counter({ name: 'bad-name', help: '' })).toThrow(/metric name/);
    expect(() => registry.histogram({ name: 'x_seconds', help: '', labelNames: ['le'], buckets: [1] })).toThrow(/label name/);
    expect(() => registry.histogram({ name: 'y_seconds', help: '', buckets: [1, 1] })).toThrow(/ascending/);
    const counter = registry.counter({ name: 'z_total', help: '', labelNames: ['function'] });
    expect(() => registry.counter({ name: 'z_total', help: '' })).toThrow(/twice/);
    expect(() => counter.inc({ function: 'a' }, -1)).toThrow(/only go up/);
    expect(() => counter.inc({})).toThrow(/needs a value for label "function"/);
    expect(() => counter.inc({ function: 'a', extra: 'b' })).toThrow(/takes labels/);
  });
});
