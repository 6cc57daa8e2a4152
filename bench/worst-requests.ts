import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

/*
 * Peak RSS of `honnx serve` under the worst request each function's limits allow (issue 16): one at a time, on the
 * default functions, one worker thread each, sampling the server's RSS every 10 ms while each request runs.
 *   node bin/run-ts.mjs bench/worst-requests.ts
 */
const projectRoot = join(import.meta.dirname, '..');
const port = 18000 + Math.floor(Math.random() * 1000);
const server = spawn(process.execPath, ['bin/honnx.mjs', 'serve', '--port', String(port), '--host', '127.0.0.1', '--workers', '1'], {
  cwd: projectRoot,
  env: { ...process.env, HONNX_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = `http://127.0.0.1:${port}`;
const rssMegabytes = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]) / 1024;

for (;;) {
  const ready = await fetch(`${url}/readyz`).then((response) => response.status, () => 0);
  if (ready === 200) break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}

const limitsOf = async (name: string) => ((await (await fetch(`${url}/${name}`)).json()) as { limits: Record<string, number> }).limits;
const fill = (unit: string, bytes: number) => unit.repeat(Math.floor((bytes - 64) / unit.length));
const words = (count: number, word: string) => Array.from({ length: count }, () => word).join(' ');

/** The worst requests each limit lets through: the most inputs, each as long as the function reads. */
const worst: Record<string, (limits: Record<string, number>) => object> = {
  classify: (l) => ({ inputs: Array.from({ length: l.maxInputs }, () => fill('great ', l.maxBodyBytes / l.maxInputs)), parameters: { truncation: true } }),
  langid: (l) => ({ inputs: Array.from({ length: l.maxInputs }, () => fill('wunderbar ', l.maxBodyBytes / l.maxInputs)), parameters: { truncation: true } }),
  extract: (l) => ({ inputs: Array.from({ length: l.maxInputs }, () => words(Math.min(l.maxInputTokens - 2, Math.floor(l.maxBodyBytes / l.maxInputs / 6)), 'Paris')) }),
  summarize: (l) => ({ inputs: `${words(Math.floor(l.maxBodyBytes / (l.maxSentences + 1) / 8), 'Markets')}. `.repeat(l.maxSentences) }),
  // A list of prompts decodes side by side: maxInputs of them, each near the model's 511-token limit.
  generate: (l) => ({ inputs: Array.from({ length: l.maxInputs }, () => words(400, 'Once')), parameters: { max_new_tokens: l.maxNewTokens, stop: ['never'] } }),
};

const baseline = rssMegabytes();
const rows: string[] = [];
for (const [name, build] of Object.entries(worst)) {
  const limits = await limitsOf(name);
  const body = JSON.stringify(build(limits));
  let peak = rssMegabytes();
  const sampler = setInterval(() => (peak = Math.max(peak, rssMegabytes())), 10);
  const started = performance.now();
  const response = await fetch(`${url}/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await response.arrayBuffer();
  clearInterval(sampler);
  rows.push(`| ${name} | ${JSON.stringify(limits)} | ${(body.length / 1024).toFixed(0)} KB | ${response.status} | ${(performance.now() - started).toFixed(0)} ms | ${peak.toFixed(0)} MB |`);
}
server.kill('SIGTERM');
console.log(`RSS at ready: ${baseline.toFixed(0)} MB; load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
console.log('| function | limits | body | status | time | peak RSS |\n|---|---|---|---|---|---|');
console.log(rows.join('\n'));
