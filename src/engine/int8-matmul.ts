import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { encodeModel, readModelOutline, setMatMulNBitsAccuracy } from '../onnx/index.ts';

/** A graph whose MatMulNBits were given int8 compute: the small model to open, and the folder its weights are read from. */
export interface Int8MatMulGraph {
  /** The rewritten model without its weights: each initializer references its bytes in the original file. */
  bytes: Uint8Array;
  /** The original file's folder, where ONNX Runtime reads the weights (the original file, and any `_data` file). */
  externalDataFolder: string;
  /** MatMulNBits nodes whose accuracy_level was set to 4. */
  rewrittenNodes: number;
}

/** `HONNX_INT8_MATMUL`: 1 or 0 (the default, unset); anything else is a mistake worth stopping for. */
export function readInt8MatMulSetting(environment: NodeJS.ProcessEnv = process.env): boolean {
  const value = environment.HONNX_INT8_MATMUL?.trim().toLowerCase();
  if (value === '1' || value === 'true' || value === 'on') return true;
  if (value === undefined || value === '' || value === '0' || value === 'false' || value === 'off') return false;
  throw new Error(`HONNX_INT8_MATMUL must be 1 or 0 (got "${environment.HONNX_INT8_MATMUL}")`);
}

/**
 * The graph at `path` with accuracy_level 4 on every com.microsoft MatMulNBits that leaves it unset or 0, or
 * undefined when no node needs it (no MatMulNBits, or every one has a level). Only the graph's structure is read
 * (a few reads, whatever the file's size); the weights stay where they are and are never copied: the original
 * file is left untouched and nothing is written to disk.
 */
export function rewriteForInt8MatMul(path: string): Int8MatMulGraph | undefined {
  const descriptor = openSync(path, 'r');
  try {
    const readAt = (position: number, length: number) => {
      const bytes = new Uint8Array(length);
      return bytes.subarray(0, readSync(descriptor, bytes, 0, length, position));
    };
    const { model } = readModelOutline(readAt, fstatSync(descriptor).size, { location: basename(path) });
    const rewrittenNodes = setMatMulNBitsAccuracy(model, 4);
    if (rewrittenNodes === 0) return undefined;
    return { bytes: encodeModel(model), externalDataFolder: dirname(path), rewrittenNodes };
  } finally {
    closeSync(descriptor);
  }
}
