#!/usr/bin/env node
// The suites that run on the discovered function set, run over a copy of functions/ with the README's
// "Writing a function" example (functions/reviews.ts) added exactly as it is written there: adding a function must
// leave them green. Cheap: the fuzz run sends 300 requests per function instead of 10,000. `npm run test:function-set`.
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const projectRoot = join(import.meta.dirname, '..');
const readme = await readFile(join(projectRoot, 'README.md'), 'utf8');
const example = /```ts\n(\/\/ functions\/reviews\.ts\n[\s\S]*?)```/.exec(readme);
if (!example) {
  console.error('README.md has no functions/reviews.ts example');
  process.exit(1);
}
// Beside src/, as functions/ is, so that the example's '../src/index.ts' import resolves as it does there.
const folder = await mkdtemp(join(projectRoot, '.functions-with-reviews-'));
let status = 1;
try {
  await cp(join(projectRoot, 'functions'), folder, { recursive: true });
  await writeFile(join(folder, 'reviews.ts'), example[1]);
  const env = { ...process.env, HONNX_TEST_FUNCTIONS: folder, HONNX_FUZZ_REQUESTS: '300' };
  const vitest = (project, files) => spawnSync('npx', ['vitest', 'run', ...files, '--project', project], { cwd: projectRoot, env, stdio: 'inherit' }).status;
  status =
    vitest('node', ['test/http/functions.test.ts', 'test/openapi/openapi-document.test.ts', 'test/playground/playground.test.ts', 'test/fuzz/http-fuzz.test.ts']) ||
    vitest('workers', ['test/workers/worker-http.workerd.test.ts']);
} finally {
  await rm(folder, { recursive: true, force: true });
}
process.exit(status ?? 1);
