import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWorkers } from '../../src/build/build-workers.ts';
import { listFunctionSources } from '../../src/build/function-sources.ts';
import { listShippedModel } from '../../src/build/model-files-to-ship.ts';
import type { ModelDelivery } from '../../src/spec/function-definition.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { startWranglerDev } from './artifact-processes.ts';

const projectRoot = join(import.meta.dirname, '../..');

const scratch = join(projectRoot, '.cache/build-test-delivery');

async function buildClassify(delivery: ModelDelivery, functionsFolder = join(projectRoot, 'functions')) {
  const [classify] = (await listFunctionSources(functionsFolder)).filter((fn) => fn.name === 'classify');
  const model = await listShippedModel('sentiment-sst2-mini', join(mirrorFolder, 'sentiment-sst2-mini'));
  const outDir = join(scratch, delivery);
  const result = await buildWorkers({ projectRoot, outDir, workerName: `honnx-classify-${delivery}`, functions: [{ ...classify, model }], delivery });
  return { outDir, result };
}

async function classifyThroughWorker(folder: string) {
  const worker = await startWranglerDev(folder);
  try {
    const response = await fetch(`${worker.url}/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'I love this' }) });
    const info = (await (await fetch(`${worker.url}/classify`)).json()) as { model: { location: string }; execution_provider: string };
    const modelUrl = await fetch(`${worker.url}/models/sentiment-sst2-mini/config.json`);
    return {
      status: response.status,
      answer: (await response.json()) as { label: string; score: number }[][],
      location: info.model.location,
      executionProvider: info.execution_provider,
      modelUrlStatus: modelUrl.status,
    };
  } finally {
    await worker.stop();
  }
}

describe('model delivery and ONNX Runtime build of a built worker', () => {
  it('static assets: the worker reads the model through the ASSETS binding, and the files are not public', async () => {
    const { outDir, result } = await buildClassify('assets');
    expect(result.bundledModelBytes).toBe(0);
    expect(existsSync(join(outDir, 'assets/models/sentiment-sst2-mini/onnx/model.onnx'))).toBe(true);
    expect(await readFile(join(outDir, 'wrangler.toml'), 'utf8')).toMatch(/run_worker_first = true/);
    const { status, answer, location, modelUrlStatus } = await classifyThroughWorker(outDir);
    expect(status).toBe(200);
    // sentiment-sst2-mini sanity.json: "I love this" → POSITIVE 0.99422.
    expect(answer[0][0]).toMatchObject({ label: 'POSITIVE' });
    expect(answer[0][0].score).toBeCloseTo(0.9942, 3);
    expect(location).toBe('ASSETS:/models/sentiment-sst2-mini');
    expect(modelUrlStatus).toBe(404);
  });

  it('R2: upload-model.sh puts the model in the bucket, and the worker reads it from there', async () => {
    const { outDir, result } = await buildClassify('r2');
    expect(result.bundledModelBytes).toBe(0);
    expect(await readFile(join(outDir, 'wrangler.toml'), 'utf8')).toMatch(/\[\[r2_buckets\]\]\nbinding = "MODELS"\nbucket_name = "honnx-models"/);
    const upload = spawnSync('sh', ['upload-model.sh', '--local'], {
      cwd: outDir,
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(upload.status, upload.stdout + upload.stderr).toBe(0);
    const { status, answer, location } = await classifyThroughWorker(outDir);
    expect(status).toBe(200);
    expect(answer[0][0].score).toBeCloseTo(0.9942, 3);
    expect(location).toBe('r2:MODELS/sentiment-sst2-mini');
  });

  it('a function that allows WebGPU gets the WebGPU build, which falls back to WASM where workerd has no GPU', async () => {
    const functionsFolder = join(scratch, 'webgpu-functions');
    await mkdir(functionsFolder, { recursive: true });
    await writeFile(
      join(functionsFolder, 'classify.ts'),
      `import { classifyEndpoint, defineFunction } from '${join(projectRoot, 'src/index.ts')}';\n` +
        `export default defineFunction({ task: classifyEndpoint, model: 'sentiment-sst2-mini', executionProviders: ['webgpu', 'wasm'] });\n`,
    );
    const { outDir, result } = await buildClassify('bundle', functionsFolder);
    expect(result.executionProviders).toEqual(['webgpu', 'wasm']);
    expect(existsSync(join(outDir, 'ort-wasm-simd-threaded.asyncify.wasm'))).toBe(true);
    const { status, answer, executionProvider } = await classifyThroughWorker(outDir);
    expect(status).toBe(200);
    expect(answer[0][0].score).toBeCloseTo(0.9942, 3);
    expect(executionProvider).toBe('wasm');
  });
});
