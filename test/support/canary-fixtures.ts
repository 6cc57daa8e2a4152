import { readFileSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lockModelFolder } from '../../src/models/lock/lock-folder.ts';
import { lockFilePath, writeLockFile } from '../../src/models/lock/lock-file.ts';
import type { NamedFunction } from '../../src/runtime/node/discover-functions.ts';
import { startNodeServer, type RunningServer } from '../../src/runtime/node/node-server.ts';
import { recordModelVersion } from '../../src/models/versions/model-versions.ts';
import { mirrorFolder } from './shared-models.ts';

/** The fleet tests' model: a small classifier whose versions differ by their config.json alone. */
export const CANARY_MODEL = 'sentiment-sst2-mini';
/** Expected labels from the model's sanity.json (an independent reference run), not from honnx. */
export const canarySanity = JSON.parse(readFileSync(join(mirrorFolder, CANARY_MODEL, 'sanity.json'), 'utf8')) as { sentences: { text: string; node: { label: string } }[] };
/** The OCI manifest digest version `n` is recorded under. */
export const digestOf = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

/** A version of the model in the version store under `root`, as `honnx models pull oci://...` keeps one (tag `v<n>`). */
export async function makeVersion(root: string, n: number, change: (config: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  const folder = join(root, `v${n}`, CANARY_MODEL);
  await cp(join(mirrorFolder, CANARY_MODEL), folder, { recursive: true });
  const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(folder, 'config.json'), JSON.stringify(change(config)));
  const entry = await lockModelFolder(CANARY_MODEL, folder, 'fp32', { type: 'oci', registry: '127.0.0.1:1', repository: 'honnx/sentiment', tag: `v${n}`, digest: digestOf(n) });
  await recordModelVersion(join(root, 'cache'), folder, entry, digestOf(n), `v${n}`);
}

/** A version with its labels swapped (a bad export): its eval score is 0. */
export const swapLabels = (config: Record<string, unknown>) => ({ ...config, id2label: { 0: 'POSITIVE', 1: 'NEGATIVE' }, label2id: { POSITIVE: 0, NEGATIVE: 1 } });

/** `functions/<name>.eval.jsonl` under `root`: the sanity sentences and their labels, threshold 0.99. */
export async function writeEvalSet(root: string, functionName: string): Promise<void> {
  const cases = canarySanity.sentences.map((sentence) => JSON.stringify({ inputs: sentence.text, expected: sentence.node.label }));
  await writeFile(join(root, 'functions', `${functionName}.eval.jsonl`), [JSON.stringify({ threshold: 0.99 }), ...cases].join('\n'));
}

/** A fleet project under `root`: the version store in `root/cache`, the mirror's copy locked as "local", logs off. */
export async function prepareFleetProject(root: string): Promise<void> {
  await mkdir(join(root, 'models'));
  await mkdir(join(root, 'functions'));
  await writeLockFile(lockFilePath(join(root, 'models')), { lockfileVersion: 1, models: [await lockModelFolder(CANARY_MODEL, join(mirrorFolder, CANARY_MODEL), 'fp32', { type: 'folder', path: 'mirror' })] });
  process.env.HONNX_CACHE = join(root, 'cache');
  process.env.HONNX_MIRROR = mirrorFolder;
  process.env.HONNX_LOG_LEVEL = 'silent';
}

/** Serves `functions` from the project at `root` on a random loopback port, models on this thread; resolves once ready. */
export async function startFleetServer(root: string, functions: readonly NamedFunction[]): Promise<RunningServer> {
  const server = await startNodeServer({ functions, projectRoot: root, host: '127.0.0.1', port: 0, workers: 0 });
  await server.ready;
  return server;
}

/** Puts back the environment variables a test set, as `saved` held them. */
export function restoreEnvironment(saved: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}
