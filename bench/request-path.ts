// The in-process cost of honnx's request path: POSTs through createHonnxApp's fetch handler to a function whose task
// answers at once (no model), so only HTTP reading, validation, auth, scheduling and the answer are timed; prints
// µs of CPU and of wall time per request. For an A/B of two checkouts, run it from each, interleaved (it also reads
// trees from before the house moves, where the function host was under http/):
//   node bin/run-ts.mjs bench/request-path.ts . 20000; node ../before/bin/run-ts.mjs bench/request-path.ts ../before 20000
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const root = resolve(process.argv[2] ?? '.');
const count = Number(process.argv[3] ?? 20000);
const load = (path: string) => import(pathToFileURL(join(root, 'src', path)).href);
const z = createRequire(join(root, 'package.json'))('zod/mini');
const { defineFunction } = await load(existsSync(join(root, 'src/spec/define-function.ts')) ? 'spec/define-function.ts' : 'http/define-function.ts');
const { createFunctionHost } = await load(existsSync(join(root, 'src/serving/function-host.ts')) ? 'serving/function-host.ts' : 'http/function-host.ts');
const { createHonnxApp } = await load('http/create-app.ts');
const endpoint = {
  task: 'echo',
  inputsSchema: z.string(),
  parametersSchema: z.strictObject({ top_k: z.optional(z.number()) }),
  defaultLimits: { maxBodyBytes: 1 << 20, maxInputs: 16, maxInputTokens: 512, maxNewTokens: 0, maxSentences: 0 },
  prepare: async () => ({}),
  warmUp: async () => {},
  describe: () => ({}),
  answer: async (_runner: unknown, inputs: string) => [{ label: inputs.length > 10 ? 'LONG' : 'SHORT', score: 1 }],
};
const fn = defineFunction({ task: endpoint, model: 'none' });
const host = createFunctionHost('echo', fn.definition, async () => ({ files: { location: 'none' }, engine: { name: 'none' }, variant: 'fp32' }));
await host.load();
const app = createHonnxApp({ functions: [{ fn, host }] });
const body = JSON.stringify({ inputs: 'I loved this movie, the acting was superb.' });
const send = () => app.fetch(new Request('http://localhost/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
const first = await send();
if (first.status !== 200) throw new Error(`status ${first.status}: ${await first.text()}`);
for (let i = 0; i < 3000; i++) await (await send()).text();
const cpu = process.cpuUsage();
const started = performance.now();
for (let i = 0; i < count; i++) await (await send()).text();
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ cpuMicrosecondsPerRequest: (used.user + used.system) / count, wallMicrosecondsPerRequest: ((performance.now() - started) * 1000) / count }));
