/**
 * Hot swaps under load: `honnx serve --function classify --workers 0` at constant concurrency 16, first steady,
 * then through 5 swaps (between two recorded versions of its model), 1 rollback, and a canary at 50% for a second
 * that is then promoted. Prints non-2xx answers, p99
 * steady and during the swaps with their ratio, and the server's peak RSS (its /metrics, every 100 ms) during the
 * swaps against steady. Run: node bin/run-ts.mjs bench/fleet/swap-load.ts [steady seconds, default 10]
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockModelFolder } from '../../src/models/lock/lock-folder.ts';
import { buildModelManifest, sha256Digest } from '../../src/models/oci/model-manifest.ts';
import { recordModelVersion } from '../../src/models/versions/model-versions.ts';
import { startHonnxServe } from '../child-process.ts';
import { mirrorFolder } from '../mirror.ts';
import { summarizeLatencies } from '../percentiles.ts';

const MODEL = 'sentiment-sst2-mini';
const CONCURRENCY = 16;
const steadySeconds = Number(process.argv[2] ?? 10);
const cache = await mkdtemp(join(tmpdir(), 'honnx-swap-bench-'));

/** A version as `honnx models pull oci://...` records it: the files, and the digest of the manifest `push` would write. */
async function recordVersion(folder: string, tag: string): Promise<string> {
  const entry = await lockModelFolder(MODEL, folder, 'fp32', { type: 'folder', path: folder });
  const digest = sha256Digest(new TextEncoder().encode(JSON.stringify(buildModelManifest({ name: MODEL, variant: 'fp32', task: 'classify', files: entry.files }))));
  await recordModelVersion(cache, folder, { ...entry, source: { type: 'oci', registry: 'bench', repository: 'sentiment', tag, digest } }, digest, tag);
  return digest;
}

const versionB = join(cache, 'build', MODEL);
await cp(join(mirrorFolder, MODEL), versionB, { recursive: true });
const config = JSON.parse(await readFile(join(versionB, 'config.json'), 'utf8')) as Record<string, unknown>;
await writeFile(join(versionB, 'config.json'), JSON.stringify({ ...config, bench_version: 'b' }));
const versions = [await recordVersion(join(mirrorFolder, MODEL), 'a'), await recordVersion(versionB, 'b')];

const adminKey = 'bench-admin-key';
const server = await startHonnxServe('classify', { workers: 0, env: { HONNX_CACHE: cache, HONNX_ADMIN_KEYS: adminKey, HONNX_LOG_LEVEL: 'warn' } });
const base = server.url.replace(/\/classify$/, '');
const admin = (path: string, body?: unknown) =>
  fetch(`${base}/admin/functions/classify/${path}`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}` }, body: JSON.stringify(body ?? {}) }).then(async (response) => ({ status: response.status, body: await response.json() }));

type Phase = 'steady' | 'swaps' | 'done';
let phase = 'steady' as Phase;
const currentPhase = (): Phase => phase;
const latencies = { steady: [] as number[], swaps: [] as number[] };
const failures: { phase: string; status: number }[] = [];
const texts = ['I love this', 'I hate this', 'This product is great, I would buy it again', 'a dull, tedious film'];
const clients = Array.from({ length: CONCURRENCY }, async (_, client) => {
  for (let index = 0; phase !== 'done'; index++) {
    const started = performance.now();
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: texts[(client + index) % texts.length] }) });
    await response.arrayBuffer();
    const current = currentPhase();
    if (current === 'done') break;
    if (response.status < 200 || response.status > 299) failures.push({ phase: current, status: response.status });
    else latencies[current].push(performance.now() - started);
  }
});

const rss = { steady: 0, swaps: 0 };
const sampler = setInterval(async () => {
  const text = await fetch(`${base}/metrics`).then((response) => response.text(), () => '');
  const value = Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? 0);
  if (phase !== 'done') rss[phase] = Math.max(rss[phase], value);
}, 100);

await new Promise((resolve) => setTimeout(resolve, steadySeconds * 1000));
phase = 'swaps';
const swaps: { action: string; status: number; milliseconds: number }[] = [];
for (let swap = 0; swap < 5; swap++) {
  const started = performance.now();
  const answer = await admin('activate', { version: versions[(swap + 1) % 2] });
  swaps.push({ action: `activate ${(swap + 1) % 2 === 0 ? 'a' : 'b'}`, status: answer.status, milliseconds: performance.now() - started });
}
const started = performance.now();
swaps.push({ action: 'rollback', status: (await admin('rollback')).status, milliseconds: performance.now() - started });
// A canary of the other version beside the active one, half the requests for a second, then promoted.
for (const [action, path, body] of [
  ['canary b 50%', 'canary', { version: versions[1], percent: 50 }],
  ['promote', 'promote', undefined],
] as const) {
  if (action === 'promote') await new Promise((resolve) => setTimeout(resolve, 1000));
  const actionStarted = performance.now();
  swaps.push({ action, status: (await admin(path, body)).status, milliseconds: performance.now() - actionStarted });
}
// Let the last old version drain and free before the figures close.
await new Promise((resolve) => setTimeout(resolve, 1000));
phase = 'done';
await Promise.all(clients);
clearInterval(sampler);
await server.stop();
await rm(cache, { recursive: true, force: true });

const steady = summarizeLatencies(latencies.steady);
const during = summarizeLatencies(latencies.swaps);
console.log(JSON.stringify({ concurrency: CONCURRENCY, steadySeconds, load: loadavg().map((value) => value.toFixed(2)).join(' '), swaps }, null, 1));
console.log(`requests: steady ${steady.count}, during swaps ${during.count}; non-2xx: ${failures.length}${failures.length ? ` ${JSON.stringify(failures.slice(0, 5))}` : ''}`);
console.log(`p99: steady ${steady.p99Ms.toFixed(1)} ms, during swaps ${during.p99Ms.toFixed(1)} ms (${(during.p99Ms / steady.p99Ms).toFixed(2)}x); p50 ${steady.p50Ms.toFixed(1)} / ${during.p50Ms.toFixed(1)} ms`);
console.log(`peak RSS: steady ${(rss.steady / 1e6).toFixed(0)} MB, during swaps ${(rss.swaps / 1e6).toFixed(0)} MB (+${((rss.swaps - rss.steady) / 1e6).toFixed(0)} MB: old + new version)`);
