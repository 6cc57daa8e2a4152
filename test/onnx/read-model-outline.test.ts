import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { decodeModel, encodeModel, readModelOutline, type ReadBytesAt } from '../../src/onnx/index.ts';

const digestOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('readModelOutline', () => {
  const root = mkdtempSync(join(tmpdir(), 'honnx-outline-'));
  const path = join(root, 'onnx', 'model_q4.onnx');
  let file: Uint8Array;
  // Reads as a file does, and counts the bytes asked for.
  let bytesRead = 0;
  const readAt: ReadBytesAt = (position, length) => {
    bytesRead += length;
    return file.slice(position, position + length);
  };
  beforeAll(async () => {
    // 45 MB, so the walk crosses many of the reader's 1 MB windows.
    await synthesizeModel({ preset: 'qwen3-0.6b', variant: 'q4', layers: 2, hiddenSize: 64, outputFolder: root });
    file = readFileSync(path);
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps every field when nothing is left in the file: the same model as a whole decode', () => {
    const outline = readModelOutline(readAt, file.byteLength, { location: 'model_q4.onnx', inlineBelow: Infinity });
    expect(outline.externalInitializers).toBe(0);
    expect(digestOf(encodeModel(outline.model))).toBe(digestOf(encodeModel(decodeModel(file))));
  });

  it('reads the structure without the weights, which it references where they lie', () => {
    bytesRead = 0;
    const outline = readModelOutline(readAt, file.byteLength, { location: 'model_q4.onnx' });
    const whole = decodeModel(file);
    expect(outline.externalInitializers).toBe((whole.graph?.initializer ?? []).filter((tensor) => (tensor.raw_data?.byteLength ?? 0) >= 4096).length);
    // Far less than the file: the embedding table alone is most of it.
    expect(bytesRead).toBeLessThan(file.byteLength / 4);
    // Apart from where each tensor's bytes are, the outline is the model.
    const inline = structuredClone(outline.model);
    for (const tensor of inline.graph?.initializer ?? []) {
      const entries = Object.fromEntries((tensor.external_data ?? []).map(({ key, value }) => [key, value]));
      if (!entries.offset) continue;
      tensor.raw_data = file.subarray(Number(entries.offset), Number(entries.offset) + Number(entries.length));
      delete tensor.external_data;
      delete tensor.data_location;
    }
    expect(digestOf(encodeModel(inline))).toBe(digestOf(encodeModel(whole)));
  });

  it('says where a truncated file ends', () => {
    expect(() => readModelOutline(readAt, 3_000_000, { location: 'model_q4.onnx' })).toThrow(/ends inside a field|past its message's end/);
  });
});
