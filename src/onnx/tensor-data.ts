import { DataLocation, DataType, type GraphProto, type Int64, type StringStringEntryProto, type TensorProto } from './onnx-types.ts';

/** The typed arrays a tensor's values come in. float16 and bfloat16 values are their raw 16-bit patterns. */
export type TensorValues =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** Element type names as the engines and ONNX Runtime spell them, mapped to TensorProto.DataType. */
export const ELEMENT_TYPES = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  bfloat16: DataType.BFLOAT16,
  float64: DataType.DOUBLE,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  int16: DataType.INT16,
  uint16: DataType.UINT16,
  int32: DataType.INT32,
  uint32: DataType.UINT32,
  int64: DataType.INT64,
  uint64: DataType.UINT64,
  bool: DataType.BOOL,
  string: DataType.STRING,
  int4: DataType.INT4,
  uint4: DataType.UINT4,
} as const;
export type ElementType = keyof typeof ELEMENT_TYPES;

export function dataTypeOf(elementType: ElementType): number {
  return ELEMENT_TYPES[elementType];
}

/** The element type name of a TensorProto.DataType code, or "type <code>" for one honnx has no name for. */
export function elementTypeName(dataType: number | undefined): string {
  const entry = Object.entries(ELEMENT_TYPES).find(([, code]) => code === dataType);
  return entry ? entry[0] : `type ${dataType}`;
}

/** Bytes per element of each fixed-size TensorProto.DataType; 4-bit and string types have none. */
export const BYTES_PER_ELEMENT: Partial<Record<number, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.DOUBLE]: 8,
  [DataType.FLOAT16]: 2,
  [DataType.BFLOAT16]: 2,
  [DataType.INT8]: 1,
  [DataType.UINT8]: 1,
  [DataType.BOOL]: 1,
  [DataType.INT16]: 2,
  [DataType.UINT16]: 2,
  [DataType.INT32]: 4,
  [DataType.UINT32]: 4,
  [DataType.INT64]: 8,
  [DataType.UINT64]: 8,
};

function defaultDataType(values: TensorValues): number {
  if (values instanceof Float32Array) return DataType.FLOAT;
  if (values instanceof Float64Array) return DataType.DOUBLE;
  if (values instanceof Int8Array) return DataType.INT8;
  if (values instanceof Uint8Array) return DataType.UINT8;
  if (values instanceof Int16Array) return DataType.INT16;
  if (values instanceof Uint16Array) return DataType.UINT16;
  if (values instanceof Int32Array) return DataType.INT32;
  if (values instanceof Uint32Array) return DataType.UINT32;
  if (values instanceof BigInt64Array) return DataType.INT64;
  return DataType.UINT64;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndian(): void {
  // ONNX stores raw_data little-endian; typed arrays use the host's order, which is little-endian everywhere honnx runs.
  if (!littleEndian) throw new Error('honnx reads and writes ONNX tensor bytes only on little-endian hosts');
}

export function countElements(dims: readonly Int64[] | undefined): number {
  return (dims ?? []).reduce<number>((count, dim) => count * Number(dim), 1);
}

/**
 * A TensorProto holding `values` as raw_data (copied). `dataType` overrides the element type implied by the
 * array: pass "float16" or "bool" for a Uint16Array of half-float bits or a Uint8Array of 0/1.
 */
export function createTensor(name: string, values: TensorValues, dims: readonly number[], dataType?: ElementType): TensorProto {
  assertLittleEndian();
  const expected = countElements(dims);
  if (values.length !== expected) throw new Error(`tensor ${name}: ${values.length} values do not fill dims [${dims.join(', ')}]`);
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
  return {
    dims: [...dims],
    data_type: dataType === undefined ? defaultDataType(values) : dataTypeOf(dataType),
    name,
    raw_data: bytes,
  };
}

export interface ExternalDataReference {
  location: string;
  offset: number;
  /** Absent when the data runs to the end of the file. */
  length?: number;
}

export interface ReadTensorOptions {
  /** Reads bytes of a tensor stored outside the model (data_location EXTERNAL), relative to the model's folder. */
  readExternalData?: (reference: ExternalDataReference) => Uint8Array;
}

export function readExternalDataReference(entries: readonly StringStringEntryProto[] = []): ExternalDataReference {
  const lookup = (key: string) => entries.find((entry) => entry.key === key)?.value;
  const location = lookup('location');
  if (!location) throw new Error('external tensor data has no "location"');
  const length = lookup('length');
  return { location, offset: Number(lookup('offset') ?? 0), ...(length === undefined ? {} : { length: Number(length) }) };
}

function fromBytes(bytes: Uint8Array, dataType: number, name: string): TensorValues {
  assertLittleEndian();
  // A copy starts at offset 0 of its own buffer, so the typed array below is always aligned.
  const buffer = bytes.slice().buffer;
  switch (dataType) {
    case DataType.FLOAT:
      return new Float32Array(buffer);
    case DataType.DOUBLE:
      return new Float64Array(buffer);
    case DataType.INT8:
      return new Int8Array(buffer);
    case DataType.UINT8:
    case DataType.BOOL:
      return new Uint8Array(buffer);
    case DataType.INT16:
      return new Int16Array(buffer);
    case DataType.UINT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return new Uint16Array(buffer);
    case DataType.INT32:
      return new Int32Array(buffer);
    case DataType.UINT32:
      return new Uint32Array(buffer);
    case DataType.INT64:
      return new BigInt64Array(buffer);
    case DataType.UINT64:
      return new BigUint64Array(buffer);
    default:
      throw new Error(`tensor ${name}: cannot read ${elementTypeName(dataType)} values`);
  }
}

function fromInt32Field(values: readonly number[], dataType: number, name: string): TensorValues {
  switch (dataType) {
    case DataType.INT32:
      return Int32Array.from(values);
    case DataType.INT8:
      return Int8Array.from(values);
    case DataType.UINT8:
    case DataType.BOOL:
      return Uint8Array.from(values);
    case DataType.INT16:
      return Int16Array.from(values);
    case DataType.UINT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return Uint16Array.from(values);
    default:
      throw new Error(`tensor ${name}: int32_data cannot hold ${elementTypeName(dataType)} values`);
  }
}

/**
 * The values of a tensor as a typed array (a copy), from raw_data, the typed *_data fields, or external data.
 * float16/bfloat16 come back as their 16-bit patterns; 4-bit types are not unpacked (read raw_data instead).
 */
export function readTensorValues(tensor: TensorProto, options: ReadTensorOptions = {}): TensorValues {
  const name = tensor.name ?? '(unnamed)';
  const dataType = tensor.data_type ?? DataType.UNDEFINED;
  if (tensor.data_location === DataLocation.EXTERNAL) {
    if (!options.readExternalData) throw new Error(`tensor ${name} keeps its data in an external file; pass readExternalData`);
    const bytes = options.readExternalData(readExternalDataReference(tensor.external_data));
    return checkCount(fromBytes(bytes, dataType, name), tensor);
  }
  if (tensor.raw_data !== undefined) return checkCount(fromBytes(tensor.raw_data, dataType, name), tensor);
  const count = countElements(tensor.dims);
  if (dataType === DataType.FLOAT) return checkCount(Float32Array.from(tensor.float_data ?? []), tensor);
  if (dataType === DataType.DOUBLE) return checkCount(Float64Array.from(tensor.double_data ?? []), tensor);
  if (dataType === DataType.INT64) return checkCount(BigInt64Array.from(tensor.int64_data ?? [], (value) => BigInt(value)), tensor);
  if (dataType === DataType.UINT64 || dataType === DataType.UINT32) {
    const values = tensor.uint64_data ?? [];
    return checkCount(
      dataType === DataType.UINT32 ? Uint32Array.from(values, Number) : BigUint64Array.from(values, (value) => BigInt(value)),
      tensor,
    );
  }
  if (count === 0) return fromBytes(new Uint8Array(0), dataType, name);
  return checkCount(fromInt32Field(tensor.int32_data ?? [], dataType, name), tensor);
}

function checkCount(values: TensorValues, tensor: TensorProto): TensorValues {
  const expected = countElements(tensor.dims);
  if (values.length !== expected) {
    throw new Error(`tensor ${tensor.name ?? '(unnamed)'} holds ${values.length} values for dims [${(tensor.dims ?? []).join(', ')}]`);
  }
  return values;
}

/** A float32 tensor's values; throws for any other element type so callers never misread bytes. */
export function readFloat32Values(tensor: TensorProto, options?: ReadTensorOptions): Float32Array {
  if (tensor.data_type !== DataType.FLOAT) {
    throw new Error(`tensor ${tensor.name ?? '(unnamed)'} is ${elementTypeName(tensor.data_type)}, not float32`);
  }
  return readTensorValues(tensor, options) as Float32Array;
}

export function findInitializer(graph: GraphProto, name: string): TensorProto | undefined {
  return graph.initializer?.find((tensor) => tensor.name === name);
}

/** The values of the graph's initializer `name`; throws when there is none by that name. */
export function readInitializer(graph: GraphProto, name: string, options?: ReadTensorOptions): TensorValues {
  const tensor = findInitializer(graph, name);
  if (!tensor) throw new Error(`graph ${graph.name ?? ''} has no initializer ${name}`);
  return readTensorValues(tensor, options);
}
