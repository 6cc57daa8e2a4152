import { afterEach, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { cacheBytesPerToken, planGenerationMemory, readAvailableMemory } from '../../src/tasks/generate/generation-memory.ts';
import { createTextGenerator } from '../../src/tasks/generate/text-generator.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';

const MB = 2 ** 20;
const GB = 2 ** 30;
/** Qwen3-0.6B's config.json fields that size its cache. */
const qwen3 = { num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, hidden_size: 1024 };
const plan = (availableBytes: number, contextTokens: number, maxRows = 32) =>
  planGenerationMemory({ modelName: 'qwen3-0.6b', modelBytes: 900 * MB, config: qwen3, cacheElementBytes: 4, contextTokens, maxRows, availableBytes, logitsBytes: 80 * MB });

describe('the memory check at load', () => {
  afterEach(() => {
    delete process.env.HONNX_MEMORY_BUDGET;
  });

  it("sizes a sequence's cache from config.json: layers × key and value × heads × head width", () => {
    expect(cacheBytesPerToken(qwen3, 4)).toBe(28 * 2 * 8 * 128 * 4);
    expect(cacheBytesPerToken(qwen3, 2)).toBe(28 * 2 * 8 * 128 * 2);
  });

  it('plans every row where they fit, and fewer rows where only some do', () => {
    expect(plan(64 * GB, 2304).rows).toBe(32);
    // 2304 tokens × 224 KiB × 2 blocks is about 1 GB a row: 8 GB leaves room for 6 or 7 of them.
    const some = plan(8 * GB, 2304);
    expect(some.rows).toBeGreaterThan(1);
    expect(some.rows).toBeLessThan(8);
    expect(some.neededBytes).toBeLessThanOrEqual(8 * GB);
  });

  it('refuses a model whose cache for one sequence does not fit, saying what context would', () => {
    expect(() => plan(4 * GB, 40960)).toThrow(/model qwen3-0\.6b does not fit in memory: weights .* one sequence of 40960 tokens .* a context of at most \d+ tokens would fit/);
    expect(() => plan(1 * GB, 2304)).toThrow(/a smaller model or a more quantized variant/);
  });

  it('reads a configured budget, and refuses one it cannot parse', () => {
    process.env.HONNX_MEMORY_BUDGET = '1.5GB';
    expect(readAvailableMemory()).toBe(1.5 * GB);
    process.env.HONNX_MEMORY_BUDGET = 'lots';
    expect(() => readAvailableMemory()).toThrow(/HONNX_MEMORY_BUDGET must be a size/);
  });

  it('checks before opening a session: a model refused at load, or its batch narrowed to what fits', async () => {
    const bundle = await loadModelBundle(mirrorModelFiles('tinystories-260k'), createNodeEngine({ threads: 1 }));
    await expect(createTextGenerator(bundle, { availableBytes: 100 * MB })).rejects.toThrow(/model tinystories-260k does not fit in memory/);
    // 512 positions of 1,280 bytes, two blocks: 1.25 MB a row over the 150 MB runtime allowance.
    const narrow = await createTextGenerator(bundle, { availableBytes: 160 * MB });
    expect(narrow.model.batched?.maxRows).toBeGreaterThan(1);
    expect(narrow.model.batched?.maxRows).toBeLessThan(32);
    const wide = await createTextGenerator(bundle, { availableBytes: 4 * GB });
    expect(wide.model.batched?.maxRows).toBe(32);
    await Promise.all([narrow.model.release(), wide.model.release()]);
  });
});
