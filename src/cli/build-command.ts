import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { DEPLOYMENT_SCRIPT } from '../build/gradual-deployment.ts';
import { formatBuildTable } from '../build/build-table.ts';
import { BUILD_TARGETS, buildProject, type BuildTarget } from '../build/build-project.ts';
import type { ModelDelivery } from '../spec/function-definition.ts';
import { MissingModelsError } from '../runtime/node/create-node-app.ts';
import { PinnedVersionError } from '../runtime/node/pinned-versions.ts';

export const BUILD_USAGE =
  '  honnx build [--target workers|node] [--function NAME]... [--model-from bundle|assets|r2] [--include-model] [--out DIR]\n' +
  '                                                     build each function into dist/<target>/<function>/ (both targets by default)\n' +
  '  honnx build --one-worker DIR                       every function in one worker in DIR (what wrangler.toml serves locally)';

const DELIVERIES: readonly ModelDelivery[] = ['bundle', 'assets', 'r2'];

/** `honnx build`: prints the table of what was built; exits 1 when a function was refused or a model is missing. */
export async function buildCommand(args: string[], projectRoot = process.cwd()): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      target: { type: 'string' },
      function: { type: 'string', multiple: true },
      'model-from': { type: 'string' },
      'include-model': { type: 'boolean' },
      out: { type: 'string' },
      'one-worker': { type: 'string' },
    },
  });
  if (values.target !== undefined && !BUILD_TARGETS.includes(values.target as BuildTarget)) {
    console.error(`honnx build: --target is one of ${BUILD_TARGETS.join(', ')} (got "${values.target}")`);
    return 2;
  }
  if (values['one-worker'] !== undefined && values.target === 'node') {
    console.error('honnx build: --one-worker builds a worker; it cannot be combined with --target node');
    return 2;
  }
  const delivery = values['model-from'];
  if (delivery !== undefined && !DELIVERIES.includes(delivery as ModelDelivery)) {
    console.error(`honnx build: --model-from is one of ${DELIVERIES.join(', ')} (got "${delivery}")`);
    return 2;
  }
  try {
    const rows = await buildProject({
      projectRoot,
      targets: values.target ? [values.target as BuildTarget] : BUILD_TARGETS,
      only: values.function,
      outDir: values.out,
      delivery: delivery as ModelDelivery | undefined,
      includeModel: values['include-model'],
      oneWorker: values['one-worker'],
    });
    console.log(formatBuildTable(rows));
    for (const row of rows.filter((candidate) => candidate.deploySteps)) {
      console.log(`\n${row.function}: a gradual deployment on Workers, the canary at ${row.canary!.percent}% (also in ${join(row.outDir!, DEPLOYMENT_SCRIPT)}):`);
      for (const step of row.deploySteps!) console.log(`  ${step}`);
    }
    const refused = rows.filter((row) => row.refusal);
    for (const row of refused) console.error(`\n${row.refusal}`);
    return refused.length > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof MissingModelsError) {
      console.error(`honnx build cannot resolve every model:\n\n${error.message}`);
      return 1;
    }
    if (error instanceof PinnedVersionError) {
      console.error(`honnx build cannot find every version it names:\n\n${error.message}`);
      return 1;
    }
    throw error;
  }
}
