import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runEdgeBench } from './edge-bench.ts';

/*
 * `node bin/run-ts.mjs bench/edge/run.ts [--rounds N] [--requests N] [--cold-starts N] [--write]`: prints the
 * edge benchmark as markdown; --write also saves it as bench/EDGE-RESULTS.md.
 */
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    requests: { type: 'string', default: '200' },
    'cold-starts': { type: 'string', default: '3' },
    write: { type: 'boolean', default: false },
  },
});
const report = await runEdgeBench({ rounds: Number(values.rounds), requestsPerRound: Number(values.requests), coldStarts: Number(values['cold-starts']) });
console.log(report);
if (values.write) await writeFile(join(import.meta.dirname, '../EDGE-RESULTS.md'), `${report}\n`);
