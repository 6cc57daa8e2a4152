import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNode } from '../../src/build/build-node.ts';
import { listFunctionSources } from '../../src/build/function-sources.ts';
import { listShippedModel } from '../../src/build/model-files-to-ship.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { startNodeArtifact } from './artifact-processes.ts';

const projectRoot = join(import.meta.dirname, '../..');

describe('a node artifact copied to another folder', () => {
  const outDir = join(projectRoot, '.cache/build-test-node-copy/classify');
  let copy: string;

  beforeAll(async () => {
    const [classify] = (await listFunctionSources(join(projectRoot, 'functions'))).filter((fn) => fn.name === 'classify');
    const model = await listShippedModel('sentiment-sst2-mini', join(mirrorFolder, 'sentiment-sst2-mini'));
    await buildNode({ projectRoot, outDir, fn: { ...classify, model }, mirror: mirrorFolder });
    copy = await mkdtemp(join(tmpdir(), 'honnx-artifact-copy-'));
    await cp(outDir, copy, { recursive: true });
    // What `npm install` in the copy gives it: onnxruntime-node, the one dependency its package.json names.
    await mkdir(join(copy, 'node_modules'));
    await symlink(join(projectRoot, 'node_modules/onnxruntime-node'), join(copy, 'node_modules/onnxruntime-node'));
  }, 120_000);
  afterAll(() => rm(copy, { recursive: true, force: true }));

  const isolated = () => ({ HONNX_MIRROR: '', HONNX_CACHE: join(copy, 'empty-cache') });

  it('keeps no relative mirror path and needs no .npmrc: its package.json keeps the CUDA download from running', async () => {
    const settings = JSON.parse(await readFile(join(copy, 'honnx.config.json'), 'utf8')) as { mirror: string; artifact: boolean };
    expect(settings).toEqual({ mirror: mirrorFolder, artifact: true });
    const manifest = JSON.parse(await readFile(join(copy, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
    expect(manifest.allowScripts).toEqual({ 'onnxruntime-node': false });
  });

  it('serves from the mirror the build used, wherever it is copied on the machine', async () => {
    const node = await startNodeArtifact(copy, { env: isolated() });
    try {
      const answer = (await (await fetch(`${node.url}/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":"I love this"}' })).json()) as { label: string }[][];
      expect(answer[0][0].label).toBe('POSITIVE');
    } finally {
      await node.stop();
    }
  });

  it('on a machine without that mirror, says exactly what it lacks and how to give it, with no command it does not have', async () => {
    const elsewhere = join(copy, 'no-such-mirror');
    await writeFile(join(copy, 'honnx.config.json'), JSON.stringify({ mirror: elsewhere, artifact: true }));
    const failure = await startNodeArtifact(copy, { env: isolated() }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure).toContain('model "sentiment-sst2-mini" was not found');
    expect(failure).toContain(`honnx.config.json's mirror ${elsewhere} does not exist here`);
    expect(failure).toContain(`copy the model folder to ${join(copy, 'models', 'sentiment-sst2-mini')}/`);
    expect(failure).toContain('honnx build --target node --include-model');
    expect(failure).not.toContain('npx honnx');
    expect(failure).not.toContain('(no mirror: HONNX_MIRROR is unset)');
  });
});
