import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quantizePath, type QuantizedGraph } from '../../src/models/quantize/quantize-files.ts';
import type { QuantizationMode } from '../../src/models/quantize/quantize-model.ts';

export interface QuantizedCopy {
  /** A model folder in a temporary directory: the source's configuration and tokenizer, plus `onnx/<graph>_<mode>.onnx`. */
  folder: string;
  reports: Record<QuantizationMode, QuantizedGraph[]>;
  remove(): Promise<void>;
}

/** Quantizes a model folder in both modes into a temporary folder, never into the repository or the mirror. */
export async function makeQuantizedCopy(source: string, modes: readonly QuantizationMode[] = ['int8', 'q4']): Promise<QuantizedCopy> {
  const folder = await mkdtemp(join(tmpdir(), 'honnx-quantized-'));
  const reports = {} as Record<QuantizationMode, QuantizedGraph[]>;
  for (const mode of modes) reports[mode] = await quantizePath(source, folder, { mode });
  return { folder, reports, remove: () => rm(folder, { recursive: true, force: true }) };
}
