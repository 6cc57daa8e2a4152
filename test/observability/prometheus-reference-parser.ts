import parsePrometheusTextFormat from 'parse-prometheus-text-format';

// An independent reading of what /metrics serves, next to the strict check in ./prometheus-text-format.ts:
// parse-prometheus-text-format (npm), whose sample parsing is ported from the Prometheus project's Python client and
// whose output follows prom2json's. It throws on a line it cannot read.

/** One family as parse-prometheus-text-format reads it: counters keep their `_total` name, values are strings. */
export interface ReferenceFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }[];
}

/** The families of a Prometheus text exposition, as the reference parser reads them. */
export function parseWithReference(text: string): ReferenceFamily[] {
  return parsePrometheusTextFormat(text) as ReferenceFamily[];
}
