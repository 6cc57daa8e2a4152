import { existsSync } from 'node:fs';
import { mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProject } from '../../src/build/build-project.ts';
import { estimateWorkersMemory, explainWorkersMemoryRefusal, WORKERS_LIMITS } from '../../src/build/memory-estimate.ts';
import { listShippedModel } from '../../src/build/model-files-to-ship.ts';
import { buildCommand } from '../../src/cli/build-command.ts';

const projectRoot = join(import.meta.dirname, '../..');
// Inside the repository's .cache so that the temporary project resolves honnx's node_modules.
const scratch = join(projectRoot, '.cache/build-planning-test');
const MEGABYTE = 1_000_000;

async function writeModel(folder: string, files: Record<string, string | number>) {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(folder, path, '..'), { recursive: true });
    if (typeof content === 'number') {
      await writeFile(join(folder, path), '');
      await truncate(join(folder, path), content);
    } else {
      await writeFile(join(folder, path), content);
    }
  }
}

beforeAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await writeModel(join(scratch, 'variants'), {
    'config.json': '{}',
    'tokenizer.json': '{}',
    'vocab.txt': 'a\nb',
    'README.md': '# model',
    'sanity.json': '{}',
    'chat_template.jinja': '{{ messages }}',
    'source/original.bin': 10,
    'onnx/model.onnx': 100,
    'onnx/model_int8.onnx': 30,
    'onnx/model_q4.onnx': 20,
    'onnx/model_q4f16.onnx': 15,
    'onnx/decoder_model_merged_q4.onnx': 40,
  });
  // A project whose only function names a model far too large for a Workers isolate.
  await writeModel(join(scratch, 'huge-project'), {
    'functions/huge.ts': `import { classifyEndpoint, defineFunction } from '../../../../src/index.ts';\nexport default defineFunction({ task: classifyEndpoint, model: 'huge-model' });\n`,
    'models/huge-model/config.json': JSON.stringify({ id2label: { 0: 'NO', 1: 'YES' } }),
    'models/huge-model/onnx/model.onnx': 60 * MEGABYTE,
  });
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('which model files a function ships', () => {
  it("ships the configuration and the chosen variant's graphs, not documentation, sources or other variants", async () => {
    const q4 = await listShippedModel('variants', join(scratch, 'variants'), 'q4');
    expect(q4.files.map((file) => file.path)).toEqual(['chat_template.jinja', 'config.json', 'tokenizer.json', 'onnx/decoder_model_merged_q4.onnx', 'onnx/model_q4.onnx']);
    expect(q4.graphBytes).toBe(60);
    const fp32 = await listShippedModel('variants', join(scratch, 'variants'));
    expect(fp32.files.map((file) => file.path).filter((path) => path.startsWith('onnx/'))).toEqual(['onnx/model.onnx']);
    await expect(listShippedModel('variants', join(scratch, 'variants'), 'fp16')).rejects.toThrow(/no ONNX graph in variant fp16/);
  });
});

describe('the Workers memory estimate', () => {
  const model = (graphMegabytes: number) => ({
    name: 'm',
    variant: 'fp32' as const,
    folder: '/m',
    files: [],
    lock: { name: 'm', variant: 'fp32' as const, source: { type: 'folder' as const, path: '/m' }, files: [] },
    graphBytes: graphMegabytes * MEGABYTE,
    totalBytes: (graphMegabytes + 0.2) * MEGABYTE,
  });

  it('adds the model, ORT’s WASM copy of it, working memory and the runtime', () => {
    const estimate = estimateWorkersMemory(model(10));
    expect(estimate.totalBytes).toBeCloseTo(estimate.modelBytes + estimate.wasmBytes + estimate.workingBytes + estimate.runtimeBytes, 0);
    expect(estimate.wasmBytes).toBeGreaterThan(10 * MEGABYTE);
    expect(estimate.totalBytes).toBeLessThan(WORKERS_LIMITS.memoryBytes);
    expect(explainWorkersMemoryRefusal('f', model(10), estimate)).toBeUndefined();
  });

  it('refuses a model that cannot fit, saying by how much and what to do', () => {
    const big = model(60);
    const estimate = estimateWorkersMemory(big);
    const message = explainWorkersMemoryRefusal('huge', big, estimate)!;
    const over = (estimate.totalBytes - WORKERS_LIMITS.memoryBytes) / MEGABYTE;
    expect(message).toContain(`${over.toFixed(1)} MB over the 128.0 MB limit`);
    expect(message).toMatch(/smaller quantization/);
    expect(message).toMatch(/"int8"/);
    expect(message).toMatch(/--target node/);
  });
});

describe('honnx build with a model too large for Workers', () => {
  it('refuses the workers target, still builds the node one, and exits 1 with the reason', async () => {
    const errors: string[] = [];
    const logs: string[] = [];
    const errorSpy = vi.spyOn(console, 'error').mockImplementation((...parts) => void errors.push(parts.join(' ')));
    const logSpy = vi.spyOn(console, 'log').mockImplementation((...parts) => void logs.push(parts.join(' ')));
    let code: number;
    try {
      code = await buildCommand([], join(scratch, 'huge-project'));
    } finally {
      errorSpy.mockRestore();
      logSpy.mockRestore();
    }
    expect(code).toBe(1);
    const table = logs.join('\n');
    expect(table).toMatch(/huge\s+workers\s+-\s+-\s+60\.0 MB\s+.*REFUSED/);
    expect(table).toMatch(/huge\s+node\s+.*built/);
    expect(errors.join('\n')).toMatch(/function huge: model huge-model .* over the 128\.0 MB limit/);

    const rows = await buildProject({ projectRoot: join(scratch, 'huge-project'), targets: ['workers'] });
    expect(rows).toHaveLength(1);
    expect(rows[0].refusal).toBeDefined();
    expect(rows[0].outDir).toBeUndefined();
    expect(existsSync(join(scratch, 'huge-project/dist/workers/huge'))).toBe(false);
  });
});
