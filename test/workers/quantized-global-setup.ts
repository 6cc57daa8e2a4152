import { join } from 'node:path';
import { ensureQuantizedModels } from '../quantize/quantized-cache.ts';

/** vitest globalSetup for workerd: quantized copies (int8, q4) of the real models, made with `honnx models quantize`. */
export default async function setup(): Promise<void> {
  await ensureQuantizedModels(process.env.HONNX_MIRROR ?? join(import.meta.dirname, '../../../shared/models'));
}
