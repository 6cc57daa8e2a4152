/*
 * Run in a fresh process by the edge bench: times engine start, model load and the first classify answer for
 * one Node engine, then prints `BENCH_RESULT {...}`. Process start and TypeScript loading are not counted.
 */
const started = performance.now();
const { default: classify } = await import('../../functions/classify.ts');
const { createBenchEngine, createLoadedApp } = await import('./in-process-app.ts');
const { readClassifyRequestBody, requestInit } = await import('./classify-request.ts');
const engineName = process.argv[2] === 'wasm' ? 'node WASM' : 'node native';
const fetchApp = await createLoadedApp(classify, await createBenchEngine(engineName));
const response = await fetchApp(new Request('http://bench.local/classify', requestInit(readClassifyRequestBody())));
if (response.status !== 200) throw new Error(`first answer was ${response.status}`);
await response.text();
console.log(`BENCH_RESULT ${JSON.stringify({ engine: engineName, firstAnswerMs: performance.now() - started })}`);

export {};
