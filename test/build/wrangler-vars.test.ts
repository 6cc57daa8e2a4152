import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { modelContentId, writeWranglerConfig } from '../../src/build/wrangler-config.ts';

describe('each Workers build carries its model digest', () => {
  it('writes [vars] that wrangler versions upload sends with the version', () => {
    const toml = writeWranglerConfig({ name: 'classify', main: 'worker.mjs', compatibilityDate: '2026-04-01', vars: { HONNX_MODEL_DIGEST_CLASSIFY: 'sha256:abc' } });
    expect(toml.split('\n').slice(-3)).toEqual(['[vars]', 'HONNX_MODEL_DIGEST_CLASSIFY = "sha256:abc"', '']);
  });

  it('names the same bytes with the same id, whatever the order, and other bytes with another', () => {
    const a = { path: 'config.json', sha256: 'a'.repeat(64) };
    const b = { path: 'onnx/model.onnx', sha256: 'b'.repeat(64) };
    const expected = `sha256:${createHash('sha256').update(`${a.sha256}  ${a.path}\n${b.sha256}  ${b.path}\n`).digest('hex')}`;
    expect(modelContentId([b, a])).toBe(expected);
    expect(modelContentId([a, { ...b, sha256: 'c'.repeat(64) }])).not.toBe(expected);
  });
});
