import { closeSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { encodeModel, encodeTensorProto } from '../../onnx/onnx-codec.ts';
import { DataLocation, type ModelProto, type TensorProto } from '../../onnx/onnx-types.ts';
import { BYTES_PER_ELEMENT } from '../../onnx/tensor-data.ts';
import type { StoredWeight } from './decoder-graph.ts';
import { generateWeight } from './decoder-weights.ts';

/** protobuf cannot parse a message of 2 GiB or more; past a margin below it the weights go to `<file>_data`. */
export const EXTERNAL_DATA_THRESHOLD = 2 ** 31 - 64 * 2 ** 20;
/** External tensors start on page boundaries, so ONNX Runtime can map them straight from the file. */
const EXTERNAL_ALIGNMENT = 4096;

export function countWeightBytes(weights: readonly StoredWeight[]): number {
  let total = 0;
  for (const weight of weights) {
    for (const tensor of weight.tensors) total += tensor.dims.reduce((product, dim) => product * dim, 1) * bytesPerElement(tensor.dataType);
  }
  return total;
}

function bytesPerElement(dataType: number): number {
  const size = BYTES_PER_ELEMENT[dataType];
  if (size === undefined) throw new Error(`no weight is stored as data type ${dataType}`);
  return size;
}

function encodeVarint(value: number): number[] {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return bytes;
}

/** The body of a ModelProto that holds only its graph: the bytes after the graph field's tag and length. */
function stripFieldPrefix(encoded: Uint8Array): Uint8Array {
  let offset = 1;
  while (encoded[offset] & 0x80) offset++;
  return encoded.subarray(offset + 1);
}

/** Field tag bytes for a length-delimited field. */
const tag = (field: number) => (field << 3) | 2;
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;

class FileSink {
  private readonly descriptor: number;
  offset = 0;
  constructor(path: string) {
    this.descriptor = openSync(path, 'w');
  }
  write(bytes: Uint8Array): void {
    let written = 0;
    while (written < bytes.length) written += writeSync(this.descriptor, bytes, written, bytes.length - written);
    this.offset += bytes.length;
  }
  padTo(alignment: number): void {
    const padding = (alignment - (this.offset % alignment)) % alignment;
    if (padding > 0) this.write(new Uint8Array(padding));
  }
  close(): void {
    closeSync(this.descriptor);
  }
}

export interface WriteOnnxOptions {
  seed: number;
  /** Force the weights into (true) or out of (false) `<file>_data`; by default only past protobuf's limit. */
  externalData?: boolean;
  /** What the external data file's name adds to the graph's: optimum writes `_data`, onnxruntime-genai `.data`. */
  dataSuffix?: string;
}

/**
 * Writes `model` plus its generated weights to `path`, one weight at a time so a model of several GB never sits in
 * memory whole. Inline weights are streamed as initializer records at the end of the one graph field, whose length
 * is known from the weights' dims before any of them is made.
 */
export function writeOnnxFile(path: string, model: ModelProto, weights: readonly StoredWeight[], options: WriteOnnxOptions): { externalData: boolean; bytes: number } {
  const external = options.externalData ?? countWeightBytes(weights) > EXTERNAL_DATA_THRESHOLD;
  const graph = model.graph!;
  if (external) {
    const suffix = options.dataSuffix ?? '_data';
    const dataName = `${basename(path)}${suffix}`;
    const data = new FileSink(`${path}${suffix}`);
    const references: TensorProto[] = [];
    try {
      for (const weight of weights) {
        const encoded = weight.encode(generateWeight(weight.spec, options.seed));
        weight.tensors.forEach((tensor, index) => {
          data.padTo(EXTERNAL_ALIGNMENT);
          const offset = data.offset;
          data.write(encoded[index]);
          references.push({
            dims: [...tensor.dims],
            data_type: tensor.dataType,
            name: tensor.name,
            data_location: DataLocation.EXTERNAL,
            external_data: [
              { key: 'location', value: dataName },
              { key: 'offset', value: String(offset) },
              { key: 'length', value: String(encoded[index].length) },
            ],
          });
        });
      }
    } finally {
      data.close();
    }
    const sink = new FileSink(path);
    try {
      sink.write(encodeModel({ ...model, graph: { ...graph, initializer: [...(graph.initializer ?? []), ...references] } }));
    } finally {
      sink.close();
    }
    return { externalData: true, bytes: sink.offset + data.offset };
  }
  // The graph is one length-delimited field: its length is known before any weight is made, from the dims.
  const records = weights.flatMap((weight) =>
    weight.tensors.map((tensor) => {
      const header = encodeTensorProto({ dims: [...tensor.dims], data_type: tensor.dataType, name: tensor.name });
      const rawLength = tensor.dims.reduce((product, dim) => product * dim, 1) * bytesPerElement(tensor.dataType);
      const tensorLength = header.length + 1 + encodeVarint(rawLength).length + rawLength;
      return { header, rawLength, prefix: Uint8Array.from([tag(GRAPH_INITIALIZER), ...encodeVarint(tensorLength)]) };
    }),
  );
  // The graph's own fields (nodes, inputs, small constants), then one initializer record per weight.
  const graphBody = stripFieldPrefix(encodeModel({ graph }));
  const graphLength = graphBody.length + records.reduce((sum, record) => sum + record.prefix.length + record.header.length + 1 + encodeVarint(record.rawLength).length + record.rawLength, 0);
  const sink = new FileSink(path);
  try {
    sink.write(encodeModel({ ...model, graph: undefined }));
    sink.write(Uint8Array.from([tag(MODEL_GRAPH), ...encodeVarint(graphLength)]));
    sink.write(graphBody);
    let index = 0;
    for (const weight of weights) {
      const encoded = weight.encode(generateWeight(weight.spec, options.seed));
      for (const raw of encoded) {
        const record = records[index++];
        if (raw.length !== record.rawLength) throw new Error(`weight ${weight.spec.name}: ${raw.length} bytes where ${record.rawLength} were planned`);
        sink.write(record.prefix);
        sink.write(record.header);
        sink.write(Uint8Array.from([tag(TENSOR_RAW_DATA), ...encodeVarint(raw.length)]));
        sink.write(raw);
      }
    }
  } finally {
    sink.close();
  }
  return { externalData: false, bytes: sink.offset };
}
