import { decodeGraphProto, decodeModel, decodeTensorProto } from './onnx-codec.ts';
import { DataLocation, type ModelProto, type TensorProto } from './onnx-types.ts';

/** Reads `length` bytes of a file at `position` (the last read may return fewer, at the end of the file). */
export type ReadBytesAt = (position: number, length: number) => Uint8Array;

// Field numbers of onnx.proto: ModelProto.graph, GraphProto.initializer, TensorProto.raw_data.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
const LENGTH_DELIMITED = 2;
const WINDOW_BYTES = 1 << 20;

/** A window over the file, so that walking thousands of small fields costs a few large reads. */
class FileWindow {
  private start = 0;
  private bytes: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly readAt: ReadBytesAt,
    readonly size: number,
  ) {}

  read(position: number, length: number): Uint8Array {
    if (position < this.start || position + length > this.start + this.bytes.byteLength) {
      if (length > WINDOW_BYTES) return this.readExactly(position, length);
      this.start = position;
      this.bytes = this.readAt(position, Math.min(WINDOW_BYTES, this.size - position));
    }
    const offset = position - this.start;
    if (offset + length > this.bytes.byteLength) throw new Error(`the ONNX file ends inside a field at byte ${position}`);
    return this.bytes.subarray(offset, offset + length);
  }

  private readExactly(position: number, length: number): Uint8Array {
    const bytes = this.readAt(position, length);
    if (bytes.byteLength < length) throw new Error(`the ONNX file ends inside a field at byte ${position}`);
    return bytes;
  }

  /** A varint at `position`: its value (exact to 2^53, enough for any length in a file) and where it ends. */
  readVarint(position: number): { value: number; end: number } {
    let value = 0;
    let scale = 1;
    for (let index = 0; index < 10; index++) {
      const byte = this.read(position + index, 1)[0];
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) return { value, end: position + index + 1 };
    }
    throw new Error(`the ONNX file has a malformed varint at byte ${position}`);
  }
}

interface Field {
  number: number;
  wireType: number;
  /** Where the field's tag starts. */
  start: number;
  /** Where a length-delimited field's payload starts (its value's start for the others). */
  valueStart: number;
  end: number;
}

/** The fields of the message in [start, end), in file order. */
function* walkFields(window: FileWindow, start: number, end: number): Generator<Field> {
  let position = start;
  while (position < end) {
    const tag = window.readVarint(position);
    const number = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    let valueStart = tag.end;
    let fieldEnd: number;
    if (wireType === 0) fieldEnd = window.readVarint(tag.end).end;
    else if (wireType === 1) fieldEnd = tag.end + 8;
    else if (wireType === 5) fieldEnd = tag.end + 4;
    else if (wireType === LENGTH_DELIMITED) {
      const length = window.readVarint(tag.end);
      valueStart = length.end;
      fieldEnd = length.end + length.value;
    } else throw new Error(`the ONNX file has an unsupported protobuf wire type ${wireType} at byte ${position}`);
    if (fieldEnd > end) throw new Error(`the ONNX file has a field past its message's end at byte ${position}`);
    yield { number, wireType, start: position, valueStart, end: fieldEnd };
    position = fieldEnd;
  }
}

/** Bytes of several fields, copied out of the window, joined into one message. */
class Pieces {
  private readonly parts: Uint8Array[] = [];

  add(window: FileWindow, field: Field): void {
    this.parts.push(window.read(field.start, field.end - field.start).slice());
  }

  join(): Uint8Array {
    const joined = new Uint8Array(this.parts.reduce((sum, part) => sum + part.byteLength, 0));
    let offset = 0;
    for (const part of this.parts) {
      joined.set(part, offset);
      offset += part.byteLength;
    }
    return joined;
  }
}

/** One initializer: its fields but raw_data, which becomes a reference to where those bytes lie in the file. */
function readInitializer(window: FileWindow, initializer: Field, location: string, inlineBelow: number): { tensor: TensorProto; external: boolean } {
  const kept = new Pieces();
  let weights: { offset: number; length: number } | undefined;
  for (const field of walkFields(window, initializer.valueStart, initializer.end)) {
    const length = field.end - field.valueStart;
    if (field.number === TENSOR_RAW_DATA && field.wireType === LENGTH_DELIMITED && length >= inlineBelow) weights = { offset: field.valueStart, length };
    else kept.add(window, field);
  }
  const tensor = decodeTensorProto(kept.join());
  if (!weights) return { tensor, external: false };
  tensor.data_location = DataLocation.EXTERNAL;
  tensor.external_data = [
    { key: 'location', value: location },
    { key: 'offset', value: String(weights.offset) },
    { key: 'length', value: String(weights.length) },
  ];
  return { tensor, external: true };
}

/** What `readModelOutline` returns: the model with its large weights left in the file, and how many it left there. */
export interface ModelOutline {
  model: ModelProto;
  externalInitializers: number;
}

/**
 * Reads an .onnx file's structure without its weights: every field is read except the main graph's initializers'
 * raw_data of `inlineBelow` bytes or more, which become external-data references (`location`, offset, length) to
 * where those bytes already lie in the same file. Encoded, the outline is a small model that ONNX Runtime opens with
 * its external-data folder set to the file's folder, reading the weights from the original file: a graph can be
 * rewritten without reading or copying gigabytes. Initializers that already live in external data keep their
 * references.
 */
export function readModelOutline(readAt: ReadBytesAt, size: number, options: { location: string; inlineBelow?: number }): ModelOutline {
  const window = new FileWindow(readAt, size);
  const inlineBelow = options.inlineBelow ?? 4096;
  const modelFields = new Pieces();
  const graphFields = new Pieces();
  const initializers: TensorProto[] = [];
  let externalInitializers = 0;
  let graphSeen = false;
  for (const field of walkFields(window, 0, size)) {
    if (field.number !== MODEL_GRAPH || field.wireType !== LENGTH_DELIMITED) {
      modelFields.add(window, field);
      continue;
    }
    graphSeen = true;
    for (const graphField of walkFields(window, field.valueStart, field.end)) {
      if (graphField.number !== GRAPH_INITIALIZER || graphField.wireType !== LENGTH_DELIMITED) {
        graphFields.add(window, graphField);
        continue;
      }
      const { tensor, external } = readInitializer(window, graphField, options.location, inlineBelow);
      initializers.push(tensor);
      if (external) externalInitializers++;
    }
  }
  const model = decodeModel(modelFields.join());
  if (graphSeen) {
    const graph = decodeGraphProto(graphFields.join());
    if (initializers.length > 0) graph.initializer = initializers;
    model.graph = graph;
  }
  return { model, externalInitializers };
}
