import type { MetricsRegistry } from '../../http/metrics/registry.ts';

/** The Node process' memory, read at each scrape, under the names Prometheus' own clients use. */
export function registerProcessMetrics(registry: MetricsRegistry): void {
  registry.gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    collect: (gauge) => gauge.set({}, process.memoryUsage.rss()),
  });
  registry.gauge({
    name: 'nodejs_heap_used_bytes',
    help: 'V8 heap in use, in bytes.',
    collect: (gauge) => gauge.set({}, process.memoryUsage().heapUsed),
  });
}
