import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBenchCases } from './cases.ts';
import { measureEncoderCase, measureGenerationCase, type Timing } from './measure.ts';
import { mirrorFolder } from './mirror.ts';
import { reportEncoder, reportGeneration } from './report.ts';

/*
 * `npm run bench`: for each model, the raw onnxruntime-node floor, the honnx function over HTTP and
 * transformers.js over HTTP, measured in interleaved rounds on this machine (one setup loaded at a time),
 * printed as markdown tables with the targets marked PASS or MISS.
 * Options: --only classify,extract,generate   --rounds N (default 4)   --seconds N (measured per window, default 3)
 *          --warm-up N (unmeasured seconds before each window, default 1)
 *          --server-warm-up N (unmeasured seconds of load per server before the first round, and per floor window; default 15)
 */

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    rounds: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '3' },
    'warm-up': { type: 'string', default: '1' },
    'server-warm-up': { type: 'string', default: '15' },
  },
});
const timing: Timing = {
  rounds: Number(values.rounds),
  seconds: Number(values.seconds),
  warmUpSeconds: Number(values['warm-up']),
  serverWarmUpSeconds: Number(values['server-warm-up']),
};
const only = values.only?.split(',');
const projectRoot = join(import.meta.dirname, '..');

console.log(
  [
    `## honnx benchmark, ${new Date().toISOString()}`,
    '',
    `Node ${process.version}, ${cpus().length} vCPU (${cpus()[0]?.model.trim()}), load average before the run ${loadavg().map((value) => value.toFixed(2)).join(' ')}.`,
    `Models from ${mirrorFolder}. onnxruntime-node 1.30.0 with 1 intra-op thread everywhere. Each server is first warmed up with ${timing.serverWarmUpSeconds} s of load; then ${timing.rounds} interleaved rounds, in each of which every row gets ${timing.warmUpSeconds} s warm-up (the floor ${Math.max(timing.warmUpSeconds, timing.serverWarmUpSeconds)} s, a fresh process each round), then ${timing.seconds} s measured; rows pool their rounds.`,
    '',
  ].join('\n'),
);

const started = performance.now();
for (const benchCase of createBenchCases()) {
  if (only && !only.includes(benchCase.functionName)) continue;
  const functionFile = join(projectRoot, 'functions', `${benchCase.functionName}.ts`);
  if (!existsSync(functionFile)) {
    console.log(`### ${benchCase.functionName}: skipped, functions/${benchCase.functionName}.ts does not exist\n`);
    continue;
  }
  process.stderr.write(`${benchCase.functionName}: ${benchCase.model}\n`);
  try {
    const report =
      benchCase.kind === 'encoder' ? reportEncoder(await measureEncoderCase(benchCase, timing)) : reportGeneration(await measureGenerationCase(benchCase, timing));
    console.log(`${report}\n`);
  } catch (error) {
    process.exitCode = 1;
    console.log(`### ${benchCase.functionName}: failed\n\n\`\`\`\n${(error as Error).message}\n\`\`\`\n`);
  }
}
console.log(`Whole run: ${((performance.now() - started) / 1000).toFixed(0)} s, load average after it ${loadavg().map((value) => value.toFixed(2)).join(' ')}. Command: \`npm run bench:core${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\``);
