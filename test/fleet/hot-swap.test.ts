import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyEndpoint, defineFunction } from '../../src/index.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { listModelVersions, recordModelVersion } from '../../src/models/versions/model-versions.ts';
import { SwapRefusedError } from '../../src/serving/swappable-host.ts';
import { signDigest } from '../../src/models/oci/model-signature.ts';
import { lockModelFolder } from '../../src/models/lock/lock-folder.ts';
import { lockFilePath, writeLockFile, type LockEntry } from '../../src/models/lock/lock-file.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { mirrorFolder } from '../support/shared-models.ts';

const MODEL = 'sentiment-sst2-mini';
/** Expected labels from the model's sanity.json (an independent reference run), not from honnx. */
const sanity = JSON.parse(readFileSync(join(mirrorFolder, MODEL, 'sanity.json'), 'utf8')) as { sentences: { text: string; node: { label: string } }[] };

let root: string;
let cache: string;
const digestOf = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

/** A version of the model in a folder of its own, kept in the version store as `honnx models pull oci://...` keeps one. */
async function makeVersion(n: number, change: (config: Record<string, unknown>) => Record<string, unknown>, signature?: string): Promise<LockEntry> {
  const folder = join(root, `v${n}`, MODEL);
  await cp(join(mirrorFolder, MODEL), folder, { recursive: true });
  const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(folder, 'config.json'), JSON.stringify(change(config)));
  const entry = await lockModelFolder(MODEL, folder, 'fp32', { type: 'oci', registry: '127.0.0.1:1', repository: 'honnx/sentiment', tag: `v${n}`, digest: digestOf(n), ...(signature ? { signature } : {}) });
  await recordModelVersion(cache, folder, entry, digestOf(n), `v${n}`);
  return entry;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'honnx-swap-'));
  cache = join(root, 'cache');
  await mkdir(join(root, 'models'));
  await mkdir(join(root, 'functions'));
  const cases = sanity.sentences.map((sentence) => JSON.stringify({ inputs: sentence.text, expected: sentence.node.label }));
  await writeFile(join(root, 'functions', 'sentiment.eval.jsonl'), [JSON.stringify({ threshold: 0.99 }), ...cases].join('\n'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('hot swap of a function model version while it serves', () => {
  it('refuses a version below the eval threshold with its scores, swaps to a good one without failing a request, and rolls back', async () => {
    // v2 has its labels swapped (a bad export): every answer is the wrong sentiment. v3 only adds a field.
    await makeVersion(2, (config) => ({ ...config, id2label: { 0: 'POSITIVE', 1: 'NEGATIVE' }, label2id: { POSITIVE: 0, NEGATIVE: 1 } }));
    const good = await makeVersion(3, (config) => ({ ...config, honnx_version: 3 }));
    await writeLockFile(lockFilePath(join(root, 'models')), { lockfileVersion: 1, models: [await lockModelFolder(MODEL, join(mirrorFolder, MODEL), 'fp32', { type: 'folder', path: 'mirror' })] });
    const sentiment = defineFunction({ task: classifyEndpoint, model: MODEL });
    const { app, ready, fleet, release } = createNodeApp({
      functions: [{ name: 'sentiment', fn: sentiment }],
      engine: createNodeEngine({ threads: 1 }),
      searchPaths: { projectModels: join(root, 'models'), cache, mirror: mirrorFolder, hubEndpoint: 'http://127.0.0.1:1' },
      functionsFolder: join(root, 'functions'),
    });
    try {
      await ready();
      const ask = (text: string) => app.fetch(new Request('http://honnx/sentiment', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: text }) }));
      const describe = async () => (await (await app.fetch(new Request('http://honnx/sentiment'))).json()) as { version: { active: string; previous?: string } };
      expect((await describe()).version.active).toBe('local');

      const refused = await fleet.activate('sentiment', 'v2').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(SwapRefusedError);
      expect((refused as SwapRefusedError).reason).toBe('eval');
      expect((refused as SwapRefusedError).message).toMatch(/scored 0\.000 on its eval set \(\d+ cases\), below the threshold 0\.99; refused, local keeps serving/);
      expect((refused as SwapRefusedError).evalScore?.failures[0]).toMatchObject({ expected: sanity.sentences[0].node.label });
      expect((await describe()).version.active).toBe('local');
      const stillRight = await (await ask(sanity.sentences[0].text)).json();
      expect(stillRight[0][0].label).toBe(sanity.sentences[0].node.label);

      // Under constant load, swap to v3: every request is answered 200, before, during and after.
      let stop = false;
      const statuses: number[] = [];
      const load = Array.from({ length: 8 }, async (_, worker) => {
        for (let index = 0; !stop; index++) statuses.push((await ask(sanity.sentences[(worker + index) % sanity.sentences.length].text)).status);
      });
      const report = await fleet.activate('sentiment', 'v3');
      expect(report).toMatchObject({ version: digestOf(3), previous: 'local', eval: { passed: true, score: 1 } });
      expect((await describe()).version).toEqual({ active: digestOf(3), previous: 'local' });
      const rolledBack = await fleet.rollback('sentiment');
      expect(rolledBack).toMatchObject({ version: 'local', previous: digestOf(3) });
      stop = true;
      await Promise.all(load);
      expect(statuses.length).toBeGreaterThan(10);
      expect(statuses.filter((status) => status !== 200)).toEqual([]);
      expect(good.files.length).toBeGreaterThan(0);
    } finally {
      await release();
    }
  });

  it('a memory refusal or a failed load (a tampered stored version) never leaves the function without its model, for activate and canary alike', async () => {
    await makeVersion(8, (config) => ({ ...config, honnx_version: 8 }));
    const versions = await listModelVersions(cache, MODEL);
    const tampered = versions.find((version) => version.digest === digestOf(8))!;
    // Replace the hard link (not the file it shares) with other bytes: the version no longer matches its lock entry.
    await rm(join(tampered.folder, 'config.json'));
    await writeFile(join(tampered.folder, 'config.json'), '{"tampered": true}');
    for (const memoryLimitBytes of [1, undefined]) {
      const { app, ready, fleet, release } = createNodeApp({
        functions: [{ name: 'sentiment', fn: defineFunction({ task: classifyEndpoint, model: MODEL }) }],
        engine: createNodeEngine({ threads: 1 }),
        searchPaths: { projectModels: join(root, 'models'), cache, mirror: mirrorFolder, hubEndpoint: 'http://127.0.0.1:1' },
        fleet: { memoryLimitBytes },
      });
      try {
        await ready();
        const selector = memoryLimitBytes === 1 ? 'v3' : 'v8';
        const reason = memoryLimitBytes === 1 ? 'memory' : 'load';
        for (const attempt of [() => fleet.activate('sentiment', selector), () => fleet.canary('sentiment', selector, 50)]) {
          const refused = await attempt().catch((error: unknown) => error);
          expect(refused, selector).toBeInstanceOf(SwapRefusedError);
          expect((refused as SwapRefusedError).reason).toBe(reason);
          expect((refused as SwapRefusedError).message).toContain('local keeps serving');
          expect(fleet.describe().sentiment).toEqual({ active: 'local', draining: 0 });
          const answer = await app.fetch(new Request('http://honnx/sentiment', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: sanity.sentences[0].text }) }));
          expect(((await answer.json()) as { label: string }[][])[0][0].label).toBe(sanity.sentences[0].node.label);
        }
      } finally {
        await release();
      }
    }
  });

  it('on a box that requires signed models, activates only a version its key signed, before loading anything', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const { privateKey: otherKey } = generateKeyPairSync('ed25519');
    await makeVersion(5, (config) => ({ ...config, honnx_version: 5 }), signDigest(digestOf(5), privateKey));
    await makeVersion(6, (config) => ({ ...config, honnx_version: 6 }), signDigest(digestOf(6), otherKey));
    await makeVersion(7, (config) => ({ ...config, honnx_version: 7 }));
    const { ready, fleet, release } = createNodeApp({
      functions: [{ name: 'sentiment', fn: defineFunction({ task: classifyEndpoint, model: MODEL }) }],
      engine: createNodeEngine({ threads: 1 }),
      searchPaths: { projectModels: join(root, 'models'), cache, mirror: mirrorFolder, hubEndpoint: 'http://127.0.0.1:1' },
      fleet: { publicKey },
    });
    try {
      await ready();
      for (const [version, message] of [
        ['v6', 'its signature does not verify with key'],
        ['v7', 'is not signed, and this box requires models signed by key'],
      ]) {
        const refused = await fleet.activate('sentiment', version).catch((error: unknown) => error);
        expect((refused as SwapRefusedError).reason, version).toBe('signature');
        expect((refused as SwapRefusedError).message).toContain(message);
        expect(fleet.hosts().get('sentiment')!.activeVersion()).toBe('local');
      }
      expect(await fleet.activate('sentiment', 'v5')).toMatchObject({ version: digestOf(5), previous: 'local' });
    } finally {
      await release();
    }
  });
});
