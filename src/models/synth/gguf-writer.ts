import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * A GGUF file writer (version 3, ggml's docs/gguf.md): metadata key-values, tensor infos, then the tensors' bytes,
 * each aligned to 32 bytes. Written by hand because no npm package writes GGUF, and a page of code covers what
 * llama.cpp needs to load a decoder.
 */

/** ggml_type codes of the tensor types honnx writes. */
export const GGML_TYPE = { F32: 0, F16: 1, Q4_0: 2 } as const;
export type GgmlType = (typeof GGML_TYPE)[keyof typeof GGML_TYPE];

const VALUE_TYPE = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;

export type MetadataValue =
  | { type: 'uint32'; value: number }
  | { type: 'float32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'int32[]'; value: readonly number[] };

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the contiguous one (a linear layer's input features). */
  dims: readonly number[];
  type: GgmlType;
  /** Made when the data section is written, in order, one at a time. */
  produce(): Uint8Array;
}

const ALIGNMENT = 32;

function byteSize(tensor: GgufTensor): number {
  const elements = tensor.dims.reduce((product, dim) => product * dim, 1);
  if (tensor.type === GGML_TYPE.F32) return elements * 4;
  if (tensor.type === GGML_TYPE.F16) return elements * 2;
  if (tensor.dims[0] % 32 !== 0) throw new Error(`Q4_0 tensor ${tensor.name} needs rows of a multiple of 32 elements`);
  return (elements / 32) * 18;
}

class ByteBuilder {
  private chunks: Uint8Array[] = [];
  length = 0;
  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
  /** A little-endian number of `size` bytes, set through the DataView method that writes it. */
  private fixed(size: number, set: (view: DataView) => void): void {
    const bytes = new Uint8Array(size);
    set(new DataView(bytes.buffer));
    this.push(bytes);
  }
  uint32(value: number): void {
    this.fixed(4, (view) => view.setUint32(0, value, true));
  }
  int32(value: number): void {
    this.fixed(4, (view) => view.setInt32(0, value, true));
  }
  uint64(value: number): void {
    this.fixed(8, (view) => view.setBigUint64(0, BigInt(value), true));
  }
  float32(value: number): void {
    this.fixed(4, (view) => view.setFloat32(0, value, true));
  }
  string(value: string): void {
    const bytes = new TextEncoder().encode(value);
    this.uint64(bytes.length);
    this.push(bytes);
  }
  raw(bytes: Uint8Array): void {
    this.push(bytes);
  }
  toBytes(): Uint8Array {
    const result = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      result.set(chunk, offset);
      offset += chunk.length;
    }
    return result;
  }
}

/** Each metadata type: its GGUF value type code, an array's element type, and how one element is written. */
const VALUE_WRITERS = {
  uint32: { code: VALUE_TYPE.UINT32, write: (out: ByteBuilder, value: number) => out.uint32(value) },
  float32: { code: VALUE_TYPE.FLOAT32, write: (out: ByteBuilder, value: number) => out.float32(value) },
  bool: { code: VALUE_TYPE.BOOL, write: (out: ByteBuilder, value: boolean) => out.raw(Uint8Array.of(value ? 1 : 0)) },
  string: { code: VALUE_TYPE.STRING, write: (out: ByteBuilder, value: string) => out.string(value) },
} as const;

function writeValue(out: ByteBuilder, entry: MetadataValue): void {
  if (entry.type === 'string[]' || entry.type === 'int32[]') {
    out.uint32(VALUE_TYPE.ARRAY);
    out.uint32(entry.type === 'string[]' ? VALUE_TYPE.STRING : VALUE_TYPE.INT32);
    out.uint64(entry.value.length);
    for (const item of entry.value) {
      if (typeof item === 'string') out.string(item);
      else out.int32(item);
    }
    return;
  }
  const writer = VALUE_WRITERS[entry.type];
  out.uint32(writer.code);
  (writer.write as (out: ByteBuilder, value: unknown) => void)(out, entry.value);
}

/** Writes a GGUF file, producing one tensor's bytes at a time. Returns the file's size. */
export function writeGguf(path: string, metadata: ReadonlyMap<string, MetadataValue>, tensors: readonly GgufTensor[]): number {
  const header = new ByteBuilder();
  header.raw(new TextEncoder().encode('GGUF'));
  header.uint32(3);
  header.uint64(tensors.length);
  header.uint64(metadata.size);
  for (const [key, value] of metadata) {
    header.string(key);
    writeValue(header, value);
  }
  const sizes = tensors.map(byteSize);
  let offset = 0;
  tensors.forEach((tensor, index) => {
    header.string(tensor.name);
    header.uint32(tensor.dims.length);
    for (const dim of tensor.dims) header.uint64(dim);
    header.uint32(tensor.type);
    header.uint64(offset);
    offset += Math.ceil(sizes[index] / ALIGNMENT) * ALIGNMENT;
  });
  const descriptor = openSync(path, 'w');
  let written = 0;
  const write = (bytes: Uint8Array) => {
    let done = 0;
    while (done < bytes.length) done += writeSync(descriptor, bytes, done, bytes.length - done);
    written += bytes.length;
  };
  const pad = () => {
    const padding = (ALIGNMENT - (written % ALIGNMENT)) % ALIGNMENT;
    if (padding > 0) write(new Uint8Array(padding));
  };
  try {
    write(header.toBytes());
    pad();
    tensors.forEach((tensor, index) => {
      const bytes = tensor.produce();
      if (bytes.length !== sizes[index]) throw new Error(`GGUF tensor ${tensor.name}: ${bytes.length} bytes where ${sizes[index]} were planned`);
      write(bytes);
      pad();
    });
  } finally {
    closeSync(descriptor);
  }
  return written;
}
