import protobuf from 'protobufjs';
import { ONNX_PROTO } from './onnx-schema.ts';
import type { GraphProto, Int64, ModelProto, TensorProto } from './onnx-types.ts';

// protobufjs reads and writes int64 fields as Long objects; honnx's types use number | bigint instead.
interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
  toNumber(): number;
  toString(): string;
}
interface LongStatic {
  isLong(value: unknown): value is LongLike;
  fromBits(low: number, high: number, unsigned?: boolean): LongLike;
}

let modelType: protobuf.Type | undefined;

function loadModelType(): protobuf.Type {
  if (modelType) return modelType;
  if (!protobuf.util.Long) throw new Error('protobufjs found no "long" package, so it cannot keep int64 values exact');
  const { root } = protobuf.parse(ONNX_PROTO, { keepCase: true });
  modelType = root.lookupType('onnx.ModelProto');
  return modelType;
}

const longStatic = () => protobuf.util.Long as unknown as LongStatic;

function fromLong(value: LongLike): Int64 {
  const approximate = value.toNumber();
  // Outside ±2^53 a double cannot hold every integer, so such values stay exact as bigint.
  return Number.isSafeInteger(approximate) ? approximate : BigInt(value.toString());
}

/** Turns a decoded protobufjs message tree into plain objects, arrays, numbers, bigints and Uint8Array views. */
function toPlain(value: unknown, Long: LongStatic): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) {
    // In Node, protobufjs hands out Buffers; a plain view keeps the type uniform across runtimes.
    return value.constructor === Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (Array.isArray(value)) return value.map((item) => toPlain(item, Long));
  if (Long.isLong(value)) return fromLong(value);
  const plain: Record<string, unknown> = {};
  // A decoded message owns exactly the fields present on the wire (defaults live on the prototype),
  // plus an empty array for each absent repeated field, which is dropped here.
  for (const [key, field] of Object.entries(value)) {
    if (Array.isArray(field) && field.length === 0) continue;
    plain[key] = toPlain(field, Long);
  }
  return plain;
}

/** Turns honnx's plain objects back into what protobufjs encodes: bigints become Long objects. */
function toWire(value: unknown, Long: LongStatic): unknown {
  if (typeof value === 'bigint') {
    const bits = BigInt.asUintN(64, value);
    return Long.fromBits(Number(bits & 0xffffffffn) | 0, Number(bits >> 32n) | 0);
  }
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((item) => toWire(item, Long));
  const wire: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) wire[key] = toWire(field, Long);
  return wire;
}

/**
 * Decodes an .onnx file. Tensor bytes (raw_data) are views into `bytes`, not copies: keep `bytes` unchanged
 * while the model is in use.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = loadModelType();
  return toPlain(type.decode(bytes), longStatic()) as ModelProto;
}

/** Encodes a model to .onnx bytes. Fields are written in field-number order, as ONNX's own C++ writer does. */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = loadModelType();
  const encoded = type.encode(toWire(model, longStatic()) as Record<string, unknown>).finish();
  return encoded.constructor === Uint8Array ? encoded : new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

const messageTypes = new Map<string, protobuf.Type>();

function loadMessageType(name: 'TensorProto' | 'GraphProto'): protobuf.Type {
  let type = messageTypes.get(name);
  if (!type) messageTypes.set(name, (type = loadModelType().root.lookupType(`onnx.${name}`)));
  return type;
}

/**
 * Encodes one TensorProto on its own, so a writer can append its bytes (and stream raw_data after them) without
 * holding a whole large model in one buffer.
 */
export function encodeTensorProto(tensor: TensorProto): Uint8Array {
  const encoded = loadMessageType('TensorProto').encode(toWire(tensor, longStatic()) as Record<string, unknown>).finish();
  return encoded.constructor === Uint8Array ? encoded : new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/** Decodes one TensorProto's bytes (a reader that walks a large file field by field hands over each tensor's header). */
export function decodeTensorProto(bytes: Uint8Array): TensorProto {
  return toPlain(loadMessageType('TensorProto').decode(bytes), longStatic()) as TensorProto;
}

/** Decodes one GraphProto's bytes. */
export function decodeGraphProto(bytes: Uint8Array): GraphProto {
  return toPlain(loadMessageType('GraphProto').decode(bytes), longStatic()) as GraphProto;
}
