import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject, type BuildRow } from '../../src/build/build-project.ts';
import { formatBuildTable } from '../../src/build/build-table.ts';
import { modelContentId } from '../../src/build/wrangler-config.ts';
import { lockModelFolder } from '../../src/models/lock/lock-folder.ts';
import { routesToCanary } from '../../src/serving/swappable-host.ts';
import { CANARY_MODEL as MODEL, canarySanity as sanity, digestOf, makeVersion, prepareFleetProject, restoreEnvironment, writeEvalSet } from '../support/canary-fixtures.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { runWrangler, startNodeArtifact } from '../build/artifact-processes.ts';
import { checkPrometheusText } from '../observability/prometheus-text-format.ts';

const ENVIRONMENT = ['HONNX_MIRROR', 'HONNX_CACHE', 'HONNX_LOG_LEVEL'] as const;
const saved = Object.fromEntries(ENVIRONMENT.map((key) => [key, process.env[key]]));

let root: string;
let rows: BuildRow[];
let v2Config: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'honnx-canary-build-'));
  // The project: the mirror's copy locked (version "local"), v2 in the version store, an eval set v2 passes.
  await prepareFleetProject(root);
  await makeVersion(root, 2, (config) => ({ ...config, honnx_version: 2 }));
  v2Config = await readFile(join(root, 'v2', MODEL, 'config.json'), 'utf8');
  await writeFile(join(root, 'package.json'), '{"type": "module"}\n');
  await writeFile(
    join(root, 'functions', 'split.ts'),
    `import { classifyEndpoint, defineFunction } from ${JSON.stringify(join(import.meta.dirname, '../../src/index.ts'))};\n` +
      `export default defineFunction({ task: classifyEndpoint, model: '${MODEL}', canary: { version: 'v2', percent: 30 } });\n`,
  );
  await writeEvalSet(root, 'split');
  rows = await buildProject({ projectRoot: root });
}, 120_000);
afterAll(async () => {
  restoreEnvironment(saved);
  await rm(root, { recursive: true, force: true });
});

describe('honnx build of a function that declares a canary', () => {
  const activeDigest = async () => modelContentId((await lockModelFolder(MODEL, join(mirrorFolder, MODEL), 'fp32', { type: 'folder', path: 'mirror' })).files);

  it('builds both versions: two workers of one name on Workers, one artifact carrying both on Node', () => {
    expect(rows.map((row) => [row.target, row.canary, row.refusal])).toEqual([
      ['workers', { version: digestOf(2), percent: 30, worker: 'active' }, undefined],
      ['workers', { version: digestOf(2), percent: 30, worker: 'canary' }, undefined],
      ['node', { version: digestOf(2), percent: 30 }, undefined],
    ]);
    expect(rows[2].delivery).toBe('manifest, canary included');
    const table = formatBuildTable(rows).split('\n').slice(2);
    expect(table.map((line) => line.split('  ')[0])).toEqual(['split (active)', 'split (canary 30%)', 'split (+ canary 30%)']);
  });

  it("on Workers: each output's wrangler.toml names the worker and its own model digest, and wrangler versions upload --dry-run sends it", async () => {
    const [active, canary] = rows;
    expect(active.outDir).toBe(join(root, 'dist/workers/split'));
    expect(canary.outDir).toBe(join(root, 'dist/workers/split.canary'));
    expect(await readFile(join(canary.outDir!, 'model', MODEL, 'config.json'), 'utf8')).toBe(v2Config);
    expect(await readFile(join(active.outDir!, 'model', MODEL, 'config.json'), 'utf8')).not.toBe(v2Config);
    const expected = [await activeDigest(), digestOf(2)];
    for (const [index, row] of [active, canary].entries()) {
      const toml = await readFile(join(row.outDir!, 'wrangler.toml'), 'utf8');
      expect(toml).toContain('name = "honnx-split"\n');
      expect(toml).toContain(`HONNX_MODEL_DIGEST_SPLIT = "${expected[index]}"`);
    }

    expect(canary.deploySteps).toEqual([
      `npx wrangler versions upload --cwd 'dist/workers/split' --message 'honnx split active: model ${expected[0]}'   # prints <active-version-id>`,
      `npx wrangler versions upload --cwd 'dist/workers/split.canary' --message 'honnx split canary: model ${expected[1]}'   # prints <canary-version-id>`,
      'npx wrangler versions deploy <active-version-id>@70% <canary-version-id>@30% --name honnx-split --yes',
    ]);
    // Each printed upload, as printed, offline with --dry-run: wrangler reads that folder's config and lists the digest it uploads.
    for (const [index, step] of canary.deploySteps!.slice(0, 2).entries()) {
      const [, folder, message] = /--cwd '([^']+)' --message '([^']+)'/.exec(step)!;
      const dryRun = await runWrangler(root, ['versions', 'upload', '--cwd', folder, '--message', message, '--dry-run']);
      expect(dryRun.code, dryRun.output).toBe(0);
      // wrangler cuts a long var to 40 characters (37 and "..."): still enough to tell the two digests apart.
      const listed = /env\.HONNX_MODEL_DIGEST_SPLIT \("(sha256:[0-9a-f]{20,64})(?:\.\.\.)?"\)/.exec(dryRun.output)?.[1];
      expect(listed && expected[index].startsWith(listed), dryRun.output).toBe(true);
      expect(dryRun.output).toContain('--dry-run: exiting now.');
    }
  }, 120_000);

  it("gradual-deploy.sh uploads both folders and deploys the split with the ids wrangler reported", async () => {
    // A stand-in for npx on PATH: it records each call, and answers an upload as wrangler does, with a version-upload
    // line in WRANGLER_OUTPUT_FILE_PATH (the id names the folder, so the deploy line shows which id went where).
    const bin = join(root, 'fake-bin');
    await mkdir(bin);
    const calls = join(root, 'npx-calls.txt');
    await writeFile(
      join(bin, 'npx'),
      [
        '#!/bin/sh',
        `echo "$*" >> ${JSON.stringify(calls)}`,
        'if [ "$2 $3" = "versions upload" ]; then',
        '  id=$(basename "$5")',
        '  echo "{\\"type\\":\\"wrangler-session\\",\\"version\\":1}" >> "$WRANGLER_OUTPUT_FILE_PATH"',
        '  echo "{\\"type\\":\\"version-upload\\",\\"version\\":1,\\"version_id\\":\\"id-$id\\"}" >> "$WRANGLER_OUTPUT_FILE_PATH"',
        'fi',
        '',
      ].join('\n'),
    );
    await chmod(join(bin, 'npx'), 0o755);
    await promisify(execFile)('sh', [join(root, 'dist/workers/split.canary/gradual-deploy.sh')], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    const expected = [await activeDigest(), digestOf(2)];
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toEqual([
      `wrangler versions upload --cwd ../split --message honnx split active: model ${expected[0]}`,
      `wrangler versions upload --cwd . --message honnx split canary: model ${expected[1]}`,
      'wrangler versions deploy id-split@70% id-.@30% --name honnx-split --yes',
    ]);
  });

  it("on Node: the artifact starts the canary through the eval gate, both versions answer, and /metrics carries both versions", async () => {
    const artifact = join(root, 'dist/node/split');
    expect(existsSync(join(artifact, 'functions', 'split.eval.jsonl'))).toBe(true);
    expect(await readFile(join(artifact, 'models', '.versions', MODEL, digestOf(2).slice('sha256:'.length), 'config.json'), 'utf8')).toBe(v2Config);
    await mkdir(join(artifact, 'node_modules'));
    await symlink(join(import.meta.dirname, '../../node_modules/onnxruntime-node'), join(artifact, 'node_modules/onnxruntime-node'));
    // Nothing from this machine's version store: the canary comes from the artifact; the active model from the mirror it records.
    const served = await startNodeArtifact(artifact, { env: { HONNX_CACHE: join(root, 'empty-cache'), HONNX_MIRROR: '', HONNX_WORKERS: '0', HONNX_LOG_LEVEL: 'info' } });
    try {
      const described = (await (await fetch(`${served.url}/split`)).json()) as { version: unknown };
      expect(described.version).toEqual({ active: 'local', canary: { version: digestOf(2), percent: 30 } });
      const ids = Array.from({ length: 48 }, (_, index) => `artifact-${index}`);
      const labels = await Promise.all(
        ids.map(async (id, index) => {
          const sentence = sanity.sentences[index % sanity.sentences.length];
          const response = await fetch(`${served.url}/split`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: JSON.stringify({ inputs: sentence.text }) });
          expect(response.status).toBe(200);
          return [((await response.json()) as { label: string }[][])[0][0].label, sentence.node.label];
        }),
      );
      // v2 differs from the active version by its config alone: both answer with the reference labels.
      expect(labels.map(([label]) => label)).toEqual(labels.map(([, expected]) => expected));
      const toCanary = ids.filter((id) => routesToCanary(30, id, 0)).length;
      expect(toCanary).toBeGreaterThan(0);
      const metrics = await (await fetch(`${served.url}/metrics`)).text();
      expect(metrics).toContain(`honnx_requests_total{function="split",status="200",version="${digestOf(2)}"} ${toCanary}\n`);
      expect(metrics).toContain(`honnx_requests_total{function="split",status="200",version="local"} ${ids.length - toCanary}\n`);
      // The gate ran in the artifact: v2's queue saw the eval set's cases before it took its share.
      const waits = checkPrometheusText(metrics).find((family) => family.name === 'honnx_queue_wait_seconds')!.samples;
      const countOf = (version: string) => waits.find((sample) => sample.name === 'honnx_queue_wait_seconds_count' && sample.labels.version === version)?.value;
      expect([countOf('local'), countOf(digestOf(2))]).toEqual([ids.length - toCanary, toCanary + sanity.sentences.length]);
    } finally {
      await served.stop();
    }
  }, 120_000);

  it('a build without the canary any more leaves no canary worker behind', async () => {
    const project = await mkdtemp(join(tmpdir(), 'honnx-canary-dropped-'));
    await cp(root, project, { recursive: true, filter: (source) => !source.startsWith(join(root, 'dist')) });
    await mkdir(join(project, 'dist/workers/split.canary'), { recursive: true });
    await writeFile(join(project, 'functions', 'split.ts'), (await readFile(join(project, 'functions', 'split.ts'), 'utf8')).replace(", canary: { version: 'v2', percent: 30 }", ''));
    const built = await buildProject({ projectRoot: project, targets: ['workers'] });
    expect(built.map((row) => [row.function, row.canary])).toEqual([['split', undefined]]);
    expect(existsSync(join(project, 'dist/workers/split.canary'))).toBe(false);
    await rm(project, { recursive: true, force: true });
  }, 120_000);
});
