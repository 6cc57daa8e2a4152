import { appendFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildNode } from '../../src/build/build-node.ts';
import { listFunctionSources } from '../../src/build/function-sources.ts';
import { listShippedModel } from '../../src/build/model-files-to-ship.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { startNodeArtifact } from './artifact-processes.ts';

const projectRoot = join(import.meta.dirname, '../..');

describe('a node artifact built with its model included', () => {
  it('serves from its own models/ folder with no mirror or cache, and refuses a model that differs from the build', async () => {
    const [classify] = (await listFunctionSources(join(projectRoot, 'functions'))).filter((fn) => fn.name === 'classify');
    const model = await listShippedModel('sentiment-sst2-mini', join(mirrorFolder, 'sentiment-sst2-mini'));
    const outDir = join(projectRoot, '.cache/build-test-node/classify');
    await buildNode({ projectRoot, outDir, fn: { ...classify, model }, includeModel: true });
    // No mirror at all: neither the environment nor a honnx.config.json names one.
    const isolated = { HONNX_MIRROR: '', HONNX_CACHE: join(projectRoot, '.cache/empty-cache') };

    const node = await startNodeArtifact(outDir, { env: isolated });
    try {
      const info = (await (await fetch(`${node.url}/classify`)).json()) as { model: { location: string } };
      expect(info.model.location).toBe(join(outDir, 'models/sentiment-sst2-mini'));
      const answer = (await (await fetch(`${node.url}/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":"I love this"}' })).json()) as {
        label: string;
        score: number;
      }[][];
      // sentiment-sst2-mini sanity.json: "I love this" → POSITIVE 0.99422.
      expect(answer[0][0].label).toBe('POSITIVE');
      expect(answer[0][0].score).toBeCloseTo(0.9942, 3);
    } finally {
      await node.stop();
    }

    const config = join(outDir, 'models/sentiment-sst2-mini/config.json');
    await chmod(config, 0o644);
    await appendFile(config, '\n');
    await expect(startNodeArtifact(outDir, { env: isolated })).rejects.toThrow(/does not match its lock entry[\s\S]*config\.json/);
  });
});
