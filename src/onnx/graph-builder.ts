import { createAttribute, type AttributeValue } from './attributes.ts';
import type { GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from './onnx-types.ts';
import { createTensor, dataTypeOf, type ElementType, type TensorValues } from './tensor-data.ts';

/** A tensor shape: numbers for fixed dimensions, names (for example "batch_size") for symbolic ones. */
export type Shape = readonly (number | string)[];

export type Attributes = Readonly<Record<string, AttributeValue>>;

export interface NodeOptions {
  /** The operator set domain: "" for standard ONNX, "com.microsoft" for onnxruntime's contrib operators. */
  domain?: string;
  name?: string;
}

/** A ValueInfoProto for a tensor; leaving `shape` out declares the element type only. */
export function createValueInfo(name: string, elementType: ElementType, shape?: Shape): ValueInfoProto {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: dataTypeOf(elementType),
        ...(shape === undefined
          ? {}
          : { shape: { dim: shape.map((dim) => (typeof dim === 'number' ? { dim_value: dim } : { dim_param: dim })) } }),
      },
    },
  };
}

export function createNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Attributes = {},
  options: NodeOptions = {},
): NodeProto {
  const node: NodeProto = { input: [...inputs], output: [...outputs], op_type: opType };
  if (options.name !== undefined) node.name = options.name;
  if (options.domain) node.domain = options.domain;
  const attributeList = Object.entries(attributes).map(([name, value]) => createAttribute(name, value));
  if (attributeList.length > 0) node.attribute = attributeList;
  return node;
}

export interface ModelOptions {
  /** Operator set versions by domain, for example `{ '': 17, 'com.microsoft': 1 }`. */
  opsets: Readonly<Record<string, number>>;
  /** Defaults to 8, which every onnxruntime since 1.10 reads; raise it only for features that need it. */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Readonly<Record<string, string>>;
}

export function createModel(graph: GraphProto, options: ModelOptions): ModelProto {
  const model: ModelProto = {
    ir_version: options.irVersion ?? 8,
    opset_import: Object.entries(options.opsets).map(([domain, version]) => ({ domain, version })),
    producer_name: options.producerName ?? 'honnx',
    graph,
  };
  if (options.producerVersion !== undefined) model.producer_version = options.producerVersion;
  if (options.docString !== undefined) model.doc_string = options.docString;
  if (options.metadata) model.metadata_props = Object.entries(options.metadata).map(([key, value]) => ({ key, value }));
  return model;
}

/**
 * Builds one GraphProto node by node. Value names are unique across the builder and every subgraph made
 * with `createSubgraph`, because ONNX forbids a subgraph from shadowing a name of its outer scope.
 */
export class GraphBuilder {
  readonly name: string;
  private readonly nodes: NodeProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly usedNames: Set<string>;
  private readonly nodeNames: Set<string>;
  private readonly counters: Map<string, number>;

  constructor(name: string, shared?: { usedNames: Set<string>; nodeNames: Set<string>; counters: Map<string, number> }) {
    this.name = name;
    this.usedNames = shared?.usedNames ?? new Set();
    this.nodeNames = shared?.nodeNames ?? new Set();
    this.counters = shared?.counters ?? new Map();
  }

  /** A builder for an If/Loop body that may read this graph's values by name. */
  createSubgraph(name: string): GraphBuilder {
    return new GraphBuilder(name, { usedNames: this.usedNames, nodeNames: this.nodeNames, counters: this.counters });
  }

  /** `base` itself when no value has that name yet, else `base_1`, `base_2`, ...; adding the value claims it. */
  freshName(base: string): string {
    return this.nextName(base, this.usedNames);
  }

  private nextName(base: string, taken: Set<string>): string {
    let name = base;
    while (taken.has(name)) {
      const next = (this.counters.get(base) ?? 0) + 1;
      this.counters.set(base, next);
      name = `${base}_${next}`;
    }
    return name;
  }

  private claim(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`graph ${this.name}: value name ${name} is already used`);
    this.usedNames.add(name);
    return name;
  }

  addInput(name: string, elementType: ElementType, shape?: Shape): string {
    this.inputs.push(createValueInfo(this.claim(name), elementType, shape));
    return name;
  }

  /** Declares `name` (a value some node produces, or an input) as a graph output. */
  addOutput(name: string, elementType: ElementType, shape?: Shape): string {
    this.outputs.push(createValueInfo(name, elementType, shape));
    return name;
  }

  /** Adds a constant tensor; pass `dataType` for float16 bits or bool bytes. */
  addInitializer(name: string, values: TensorValues, dims: readonly number[], dataType?: ElementType): string {
    this.initializers.push(createTensor(this.claim(name), values, dims, dataType));
    return name;
  }

  /**
   * Adds a node. `outputs` are exact names, or a count of fresh names derived from the operator type.
   * Returns the output names. An empty string in `inputs` marks an omitted optional input.
   */
  addNode(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[] | number = 1,
    attributes: Attributes = {},
    options: NodeOptions = {},
  ): string[] {
    const outputNames =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, () => this.claim(this.freshName(opType.toLowerCase())))
        : outputs.map((output) => this.claim(output));
    const name = options.name ?? this.nextName(opType, this.nodeNames);
    this.nodeNames.add(name);
    this.nodes.push(createNode(opType, inputs, outputNames, attributes, { ...options, name }));
    return outputNames;
  }

  /** Adds a single-output node and returns its output's name. */
  op(opType: string, inputs: readonly string[], attributes: Attributes = {}, options: NodeOptions = {}): string {
    return this.addNode(opType, inputs, 1, attributes, options)[0];
  }

  build(): GraphProto {
    const graph: GraphProto = { node: [...this.nodes], name: this.name };
    if (this.initializers.length > 0) graph.initializer = [...this.initializers];
    if (this.inputs.length > 0) graph.input = [...this.inputs];
    graph.output = [...this.outputs];
    return graph;
  }
}
