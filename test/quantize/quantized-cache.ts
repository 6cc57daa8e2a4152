import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { quantizePath } from '../../src/models/quantize/quantize-files.ts';

/**
 * Quantized copies of the real models in `.cache/quantized-models/<name>/` (gitignored), for suites that cannot
 * quantize themselves: workerd forbids protobufjs's generated code, so a Workers test reads these through the
 * model service (add `quantized: quantizedModelsFolder` to its served folders and call this from global setup).
 * Each folder holds the model's configuration and tokenizer and `onnx/model_int8.onnx` + `onnx/model_q4.onnx`.
 */
export const quantizedModelsFolder = resolve(import.meta.dirname, '../../.cache/quantized-models');

export const QUANTIZED_MODEL_NAMES = ['sentiment-sst2-mini', 'langid-fasttext-lid176', 'tinystories-260k'] as const;

const STAMP_FILE = '.quantizer-hash';

/** A hash of the quantizer's source: the copies are stale exactly when the code that writes them changed. */
async function hashQuantizer(): Promise<string> {
  const hash = createHash('sha256');
  const folders = [resolve(import.meta.dirname, '../../src/models/quantize'), resolve(import.meta.dirname, '../../src/onnx')];
  for (const folder of folders) {
    for (const file of (await readdir(folder)).filter((name) => name.endsWith('.ts')).sort()) hash.update(file).update(await readFile(join(folder, file)));
  }
  return hash.digest('hex');
}

export async function ensureQuantizedModels(mirror: string, output = quantizedModelsFolder): Promise<string> {
  const stampPath = join(output, STAMP_FILE);
  const current = `${await hashQuantizer()}\n${resolve(mirror)}\n`;
  if (existsSync(stampPath) && (await readFile(stampPath, 'utf8')) === current) return output;
  await rm(output, { recursive: true, force: true });
  for (const name of QUANTIZED_MODEL_NAMES) {
    for (const mode of ['int8', 'q4'] as const) await quantizePath(join(mirror, name), join(output, name), { mode });
  }
  await writeFile(stampPath, current);
  return output;
}
