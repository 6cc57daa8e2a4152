import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// The Prometheus project's own Python parser (Debian's python3-prometheus-client, installed by .ci/run): an
// independent reading of what /metrics serves, next to the strict check in ./prometheus-text-format.ts.

const REFERENCE_PYTHON = '/usr/bin/python3';

/** Whether Debian's python3-prometheus-client (the Prometheus project's Python client) is installed. */
export const hasReferenceParser =
  existsSync(REFERENCE_PYTHON) && spawnSync(REFERENCE_PYTHON, ['-c', 'import prometheus_client.parser'], { stdio: 'ignore' }).status === 0;

const READ_WITH_REFERENCE = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
def number(value):
    return str(value) if math.isinf(value) or math.isnan(value) else value
print(json.dumps([
    {"name": family.name, "type": family.type, "help": family.documentation,
     "samples": [{"name": s.name, "labels": s.labels, "value": number(s.value)} for s in family.samples]}
    for family in text_string_to_metric_families(sys.stdin.read())
]))
`;

/** The families as prometheus_client's parser reads them (it names counter families without `_total`). */
export function parseWithReference(text: string): { name: string; type: string; help: string; samples: { name: string; labels: Record<string, string>; value: number | string }[] }[] {
  if (!hasReferenceParser) {
    throw new Error('the Prometheus reference parser is missing: apt-get install python3-prometheus-client (as .ci/run does)');
  }
  const result = spawnSync(REFERENCE_PYTHON, ['-c', READ_WITH_REFERENCE], { input: text, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`prometheus_client could not parse the text:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}
