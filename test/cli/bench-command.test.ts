import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { benchCommand, formatBenchReport, runBench } from '../../src/cli/bench-command.ts';
import { modelsCommand } from '../../src/cli/models-command.ts';
import { presetFromConfig } from '../../src/models/synth/preset-from-config.ts';

/** Qwen3-4B's config.json as published on the hub (the fields a graph is built from). */
const QWEN3_4B_CONFIG = {
  architectures: ['Qwen3ForCausalLM'],
  model_type: 'qwen3',
  hidden_size: 2560,
  intermediate_size: 9728,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 128,
  num_hidden_layers: 36,
  vocab_size: 151936,
  max_position_embeddings: 40960,
  rope_theta: 1000000,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: true,
};

/** Llama-3.2-3B-Instruct's config.json as published (llama3 rope scaling, head_dim 128). */
const LLAMA_3B_CONFIG = {
  model_type: 'llama',
  hidden_size: 3072,
  intermediate_size: 8192,
  num_attention_heads: 24,
  num_key_value_heads: 8,
  head_dim: 128,
  num_hidden_layers: 28,
  vocab_size: 128256,
  max_position_embeddings: 131072,
  rope_theta: 500000,
  rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  tie_word_embeddings: true,
};

describe('presetFromConfig: a synth preset in the exact shape of a hub config.json', () => {
  it('reads every shape field of a Qwen3 and a Llama config', () => {
    expect(presetFromConfig(QWEN3_4B_CONFIG, 'Qwen3-4B').shape).toMatchObject({
      family: 'qwen3', layers: 36, hiddenSize: 2560, intermediateSize: 9728, heads: 32, keyValueHeads: 8, headDimension: 128, vocabularySize: 151936, queryKeyNorm: true,
    });
    const llama = presetFromConfig(LLAMA_3B_CONFIG, 'Llama-3.2-3B').shape;
    expect(llama).toMatchObject({ family: 'llama', layers: 28, hiddenSize: 3072, heads: 24, keyValueHeads: 8, headDimension: 128, ropeTheta: 500000, queryKeyNorm: false });
    expect(llama.ropeScaling).toEqual(LLAMA_3B_CONFIG.rope_scaling);
  });

  it('refuses what it cannot write, naming the field', () => {
    expect(() => presetFromConfig({ ...QWEN3_4B_CONFIG, model_type: 'gpt2' }, 'x')).toThrow(/model_type "gpt2" has no synthetic graph; supported: qwen3, llama/);
    expect(() => presetFromConfig({ ...QWEN3_4B_CONFIG, vocab_size: 32000 }, 'x')).toThrow(/vocab_size 32000 is smaller than the qwen3 tokenizer/);
    expect(() => presetFromConfig({ ...QWEN3_4B_CONFIG, num_hidden_layers: 0 }, 'x')).toThrow(/"num_hidden_layers" must be a positive integer/);
    expect(() => presetFromConfig({ ...LLAMA_3B_CONFIG, rope_scaling: { rope_type: 'yarn' } }, 'x')).toThrow(/rope_scaling "yarn" is not supported/);
  });
});

describe('honnx models synth CONFIG.json OUT', () => {
  it('writes the config.json shape, with the family tokenizer', async () => {
    const root = mkdtempSync(join(tmpdir(), 'honnx-synth-config-'));
    try {
      writeFileSync(join(root, 'config.json'), JSON.stringify(LLAMA_3B_CONFIG));
      const logs = vi.spyOn(console, 'log').mockImplementation(() => {});
      try {
        expect(await modelsCommand(['synth', join(root, 'config.json'), join(root, 'out'), '--variant', 'q4', '--layers', '1', '--hidden', '64'], root)).toBe(0);
      } finally {
        logs.mockRestore();
      }
      const written = JSON.parse(readFileSync(join(root, 'out/config.json'), 'utf8'));
      // Llama-3.2-3B's 24/8 heads and llama3 rope scaling (the 1B preset has 32/8).
      expect(written).toMatchObject({ model_type: 'llama', num_hidden_layers: 1, hidden_size: 64, num_attention_heads: 24, num_key_value_heads: 8, rope_scaling: LLAMA_3B_CONFIG.rope_scaling });
      const tokenizerConfig = JSON.parse(readFileSync(join(root, 'out/tokenizer_config.json'), 'utf8'));
      expect(tokenizerConfig.eos_token).toBe('<|eot_id|>');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('honnx bench', () => {
  const cache = mkdtempSync(join(tmpdir(), 'honnx-bench-'));
  afterAll(() => rmSync(cache, { recursive: true, force: true }));
  const small = ['--layers', '1', '--hidden', '64', '--prompt-tokens', '8,24', '--new-tokens', '4', '--streams', '1,2', '--threads', '1', '--cache', cache];

  it('writes a preset once with random weights, then measures every figure through the generation path', async () => {
    const report = await runBench(['qwen3-0.6b', ...small]);
    const folder = join(cache, 'qwen3-0.6b-l1-h64');
    expect(report.folder).toBe(folder);
    const graphBytes = statSync(join(folder, 'onnx/model_q4.onnx')).size;
    expect(report.modelBytes).toBe(graphBytes);
    // The float embedding table (151,936 × 64 × 4 bytes) is gathered a row at a time, not read each step.
    expect(report.weightBytesPerToken).toBe(graphBytes - 151936 * 64 * 4);
    expect(report.ceilingTokensPerSecond).toBeCloseTo(report.copyBandwidth / report.weightBytesPerToken, 6);
    // 1 layer × key and value × 8 heads × head width 8 × 4 bytes.
    expect(report.cacheBytesPerToken).toBe(1 * 2 * 8 * 8 * 4);
    const { figures } = report;
    expect(Object.keys(figures.timeToFirstToken).map(Number)).toEqual([8, 24]);
    expect(Object.keys(figures.aggregate).map(Number)).toEqual([1, 2]);
    // End-of-sequence is held off, so each stream made exactly the tokens asked for.
    expect(figures.tokensPerStream).toEqual([4, 4, 4]);
    for (const value of [figures.decodeShortContext, figures.decodeLongContext, figures.aggregate[2], ...Object.values(figures.timeToFirstToken)]) expect(value).toBeGreaterThan(0);
    expect(figures.peakRssBytes).toBeGreaterThan(graphBytes);
    const text = formatBenchReport(report);
    expect(text).toContain('1 layers × hidden 64');
    expect(text).toMatch(/first token: 8 prompt tokens \d+ ms, 24 prompt tokens/);
    expect(text).toMatch(/2 streams together: [\d.]+ tok\/s/);

    const written = statSync(join(folder, 'onnx/model_q4.onnx')).mtimeMs;
    await runBench(['qwen3-0.6b', ...small, '--prompt-tokens', '8', '--streams', '1']);
    expect(statSync(join(folder, 'onnx/model_q4.onnx')).mtimeMs).toBe(written);
  }, 120_000);

  it('measures a hub config.json in its own shape (before downloading the weights)', async () => {
    const configPath = join(mkdtempSync(join(tmpdir(), 'honnx-bench-config-')), 'config.json');
    writeFileSync(configPath, JSON.stringify(QWEN3_4B_CONFIG));
    const report = await runBench([configPath, '--layers', '1', '--hidden', '64', '--prompt-tokens', '8', '--new-tokens', '2', '--streams', '1', '--threads', '1', '--cache', cache]);
    const written = JSON.parse(readFileSync(join(report.folder, 'config.json'), 'utf8'));
    // Qwen3-4B's 32 query heads over 8 key/value heads, not the 0.6B preset's 16/8.
    expect(written).toMatchObject({ model_type: 'qwen3', num_attention_heads: 32, num_key_value_heads: 8, num_hidden_layers: 1, hidden_size: 64 });
    expect(report.figures.tokensPerStream).toEqual([2]);
  }, 120_000);

  it('answers a usage error with exit 2 and says what it takes', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await benchCommand(['no-such-model', '--cache', cache])).toBe(2);
      expect(errors.mock.calls.flat().join('\n')).toMatch(/"no-such-model" is neither a preset \(qwen3-0.6b, llama-3.2-1b, phi-3.5-mini-genai\), a config.json file, nor a model folder/);
      expect(await benchCommand(['qwen3-0.6b', '--streams', '0', '--cache', cache])).toBe(2);
      expect(errors.mock.calls.flat().join('\n')).toMatch(/--streams is a list of positive whole numbers/);
      // Refused before anything was written: no full-size model in the cache.
      expect(existsSync(join(cache, 'qwen3-0.6b'))).toBe(false);
    } finally {
      errors.mockRestore();
    }
  });
});
