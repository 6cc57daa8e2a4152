import { AttributeType, type AttributeProto, type GraphProto, type Int64, type TensorProto } from './onnx-types.ts';

/**
 * What a node attribute may be given as. Plain numbers are ints when they are integers and floats otherwise;
 * wrap a whole-valued float as `{ float: 1 }` (or `{ floats: [...] }`) where the operator wants a float.
 * An empty array is taken as ints.
 */
export type AttributeValue =
  | number
  | bigint
  | string
  | readonly number[]
  | readonly bigint[]
  | readonly string[]
  | { readonly float: number }
  | { readonly floats: readonly number[] }
  | { readonly ints: readonly Int64[] }
  | { readonly strings: readonly string[] }
  | { readonly tensor: TensorProto }
  | { readonly tensors: readonly TensorProto[] }
  | { readonly graph: GraphProto }
  | { readonly graphs: readonly GraphProto[] };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function createAttribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'bigint') return { name, type: AttributeType.INT, i: value };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: encoder.encode(value) };
  if (Array.isArray(value)) {
    const items = value as readonly (number | bigint | string)[];
    if (items.every((item) => typeof item === 'string')) {
      return { name, type: AttributeType.STRINGS, strings: (items as string[]).map((item) => encoder.encode(item)) };
    }
    if (items.every((item) => typeof item === 'bigint' || Number.isInteger(item))) {
      return { name, type: AttributeType.INTS, ints: [...(items as Int64[])] };
    }
    return { name, type: AttributeType.FLOATS, floats: [...(items as number[])] };
  }
  const wrapped = value as Record<string, unknown>;
  if ('float' in wrapped) return { name, type: AttributeType.FLOAT, f: wrapped.float as number };
  if ('floats' in wrapped) return { name, type: AttributeType.FLOATS, floats: [...(wrapped.floats as number[])] };
  if ('ints' in wrapped) return { name, type: AttributeType.INTS, ints: [...(wrapped.ints as Int64[])] };
  if ('strings' in wrapped) {
    return { name, type: AttributeType.STRINGS, strings: (wrapped.strings as string[]).map((item) => encoder.encode(item)) };
  }
  if ('tensor' in wrapped) return { name, type: AttributeType.TENSOR, t: wrapped.tensor as TensorProto };
  if ('tensors' in wrapped) return { name, type: AttributeType.TENSORS, tensors: [...(wrapped.tensors as TensorProto[])] };
  if ('graph' in wrapped) return { name, type: AttributeType.GRAPH, g: wrapped.graph as GraphProto };
  if ('graphs' in wrapped) return { name, type: AttributeType.GRAPHS, graphs: [...(wrapped.graphs as GraphProto[])] };
  throw new TypeError(`attribute ${name}: unsupported value ${String(value)}`);
}

/** An attribute's value in plain form: number, bigint, string, arrays of those, a tensor or graph(s). */
export function readAttribute(attribute: AttributeProto): unknown {
  switch (attribute.type) {
    case AttributeType.FLOAT:
      return attribute.f ?? 0;
    case AttributeType.INT:
      return attribute.i ?? 0;
    case AttributeType.STRING:
      return decoder.decode(attribute.s ?? new Uint8Array());
    case AttributeType.TENSOR:
      return attribute.t;
    case AttributeType.GRAPH:
      return attribute.g;
    case AttributeType.FLOATS:
      return attribute.floats ?? [];
    case AttributeType.INTS:
      return attribute.ints ?? [];
    case AttributeType.STRINGS:
      return (attribute.strings ?? []).map((item) => decoder.decode(item));
    case AttributeType.TENSORS:
      return attribute.tensors ?? [];
    case AttributeType.GRAPHS:
      return attribute.graphs ?? [];
    default:
      throw new Error(`attribute ${attribute.name}: cannot read attribute type ${attribute.type}`);
  }
}
