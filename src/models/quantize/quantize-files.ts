import { existsSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { decodeModel, encodeModel } from '../../onnx/onnx-codec.ts';
import { DataLocation, type ModelProto } from '../../onnx/onnx-types.ts';
import { readExternalDataReference, type ExternalDataReference } from '../../onnx/tensor-data.ts';
import { listFolderFiles } from '../lock/lock-folder.ts';
import { parseGraphPath, selectModelFiles } from '../model-file-selection.ts';
import { forEachGraph } from './graph-walk.ts';
import { quantizeModel, type NodeDecision, type QuantizeOptions } from './quantize-model.ts';

export interface QuantizedGraph {
  input: string;
  output: string;
  /** The graph file plus its external data, before. */
  bytesBefore: number;
  bytesAfter: number;
  decisions: NodeDecision[];
}

/** A protobuf message cannot exceed 2 GiB; larger outputs would need external data, which quantized small models never do. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

/** Reads external tensor data relative to the graph's folder, by offset and length, without loading whole files. */
function createExternalReader(folder: string) {
  return (reference: ExternalDataReference): Uint8Array => {
    const path = resolve(folder, reference.location);
    if (!path.startsWith(resolve(folder))) throw new Error(`external data ${reference.location} lies outside ${folder}`);
    const descriptor = openSync(path, 'r');
    try {
      const length = reference.length ?? fstatSync(descriptor).size - reference.offset;
      const bytes = new Uint8Array(length);
      readSync(descriptor, bytes, 0, length, reference.offset);
      return bytes;
    } finally {
      closeSync(descriptor);
    }
  };
}

/** Moves every tensor still kept outside the graph back inside it, so that the output is one self-contained file. */
function inlineExternalData(model: ModelProto, read: (reference: ExternalDataReference) => Uint8Array): void {
  if (!model.graph) return;
  forEachGraph(model.graph, (graph) => {
    for (const tensor of graph.initializer ?? []) {
      if (tensor.data_location !== DataLocation.EXTERNAL) continue;
      tensor.raw_data = read(readExternalDataReference(tensor.external_data));
      delete tensor.external_data;
      delete tensor.data_location;
    }
  });
}

async function externalBytes(model: ModelProto, folder: string): Promise<number> {
  const locations = new Set<string>();
  if (model.graph) {
    forEachGraph(model.graph, (graph) => {
      for (const tensor of graph.initializer ?? []) if (tensor.data_location === DataLocation.EXTERNAL) locations.add(readExternalDataReference(tensor.external_data).location);
    });
  }
  let total = 0;
  for (const location of locations) total += (await stat(join(folder, location)).catch(() => undefined))?.size ?? 0;
  return total;
}

/** Quantizes one .onnx file into another (written atomically, with every tensor inline). */
export async function quantizeGraphFile(input: string, output: string, options: Omit<QuantizeOptions, 'readExternalData'>): Promise<QuantizedGraph> {
  const bytes = await readFile(input);
  const model = decodeModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const folder = dirname(input);
  const bytesBefore = bytes.byteLength + (await externalBytes(model, folder));
  const readExternalData = createExternalReader(folder);
  const { decisions } = quantizeModel(model, { ...options, readExternalData });
  inlineExternalData(model, readExternalData);
  const encoded = encodeModel(model);
  if (encoded.byteLength > PROTOBUF_LIMIT) throw new Error(`the quantized graph is ${encoded.byteLength} bytes, over protobuf's 2 GiB limit`);
  await mkdir(dirname(output), { recursive: true });
  const temporary = `${output}.${process.pid}.tmp`;
  await writeFile(temporary, encoded);
  await rename(temporary, output);
  return { input, output, bytesBefore, bytesAfter: encoded.byteLength, decisions };
}

/**
 * `honnx models quantize <in> <out>`. A file gives a file (or `<out>/<name>_<mode>.onnx` when `out` is a folder).
 * A model folder gives `<out>/onnx/<graph>_<mode>.onnx` for each full-precision graph, so that a function selects
 * it with `variant: "int8"` or `"q4"`; when `out` is another folder, the configuration and tokenizer files are
 * copied too, so that it is a complete model.
 */
export async function quantizePath(input: string, output: string, options: Omit<QuantizeOptions, 'readExternalData'>): Promise<QuantizedGraph[]> {
  const info = await stat(input).catch(() => undefined);
  if (!info) throw new Error(`${input} does not exist`);
  if (info.isFile()) {
    const outputIsFolder = output.endsWith('/') || (existsSync(output) && (await stat(output)).isDirectory());
    const target = outputIsFolder ? join(output, `${basename(input, '.onnx')}_${options.mode}.onnx`) : output;
    return [await quantizeGraphFile(input, target, options)];
  }
  const paths = await listFolderFiles(input);
  const graphs = paths.filter((path) => {
    const graph = parseGraphPath(path);
    return graph !== undefined && !graph.externalData && graph.variant === 'fp32';
  });
  if (graphs.length === 0) throw new Error(`${input} has no full-precision onnx/*.onnx graph to quantize`);
  const results: QuantizedGraph[] = [];
  for (const path of graphs) {
    const { base } = parseGraphPath(path)!;
    results.push(await quantizeGraphFile(join(input, path), join(output, 'onnx', `${base}_${options.mode}.onnx`), options));
  }
  if (resolve(input) !== resolve(output)) {
    for (const path of selectModelFiles(paths, 'fp32').files.filter((file) => !file.startsWith('onnx/'))) {
      await mkdir(dirname(join(output, path)), { recursive: true });
      await copyFile(join(input, path), join(output, path));
    }
  }
  return results;
}
