import type { AttributeProto, GraphProto, ModelProto, NodeProto } from '../../onnx/onnx-types.ts';

/** The subgraphs a node carries in its attributes: If branches, Loop and Scan bodies. */
export function listSubgraphs(node: NodeProto): { attribute: AttributeProto; graph: GraphProto }[] {
  const found: { attribute: AttributeProto; graph: GraphProto }[] = [];
  for (const attribute of node.attribute ?? []) {
    if (attribute.g) found.push({ attribute, graph: attribute.g });
    for (const graph of attribute.graphs ?? []) found.push({ attribute, graph });
  }
  return found;
}

/** Calls `visit` on a graph and every graph nested in its nodes, outermost first. */
export function forEachGraph(graph: GraphProto, visit: (graph: GraphProto, depth: number) => void, depth = 0): void {
  visit(graph, depth);
  for (const node of graph.node ?? []) for (const { graph: subgraph } of listSubgraphs(node)) forEachGraph(subgraph, visit, depth + 1);
}

/** Every name in use anywhere in the model: values, initializers, inputs, outputs and node names. */
export function collectNames(model: ModelProto): Set<string> {
  const names = new Set<string>();
  if (!model.graph) return names;
  forEachGraph(model.graph, (graph) => {
    for (const tensor of graph.initializer ?? []) if (tensor.name) names.add(tensor.name);
    for (const value of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.value_info ?? [])]) if (value.name) names.add(value.name);
    for (const node of graph.node ?? []) {
      if (node.name) names.add(node.name);
      for (const name of [...(node.input ?? []), ...(node.output ?? [])]) if (name) names.add(name);
    }
  });
  return names;
}

/** How many times each value is read: node inputs in every graph, plus graph outputs. */
export function countReads(model: ModelProto): Map<string, number> {
  const reads = new Map<string, number>();
  const add = (name: string | undefined) => {
    if (name) reads.set(name, (reads.get(name) ?? 0) + 1);
  };
  if (!model.graph) return reads;
  forEachGraph(model.graph, (graph) => {
    for (const node of graph.node ?? []) for (const name of node.input ?? []) add(name);
    for (const output of graph.output ?? []) add(output.name);
  });
  return reads;
}

/** Hands out names no other value or node in the model has, derived from a readable base. */
export class NameAllocator {
  private readonly taken: Set<string>;

  constructor(taken: Iterable<string>) {
    this.taken = new Set(taken);
  }

  allocate(base: string): string {
    let name = base;
    for (let counter = 1; this.taken.has(name); counter++) name = `${base}_${counter}`;
    this.taken.add(name);
    return name;
  }
}

/** The operator set version a model imports for a domain ("" and "ai.onnx" are the same), or undefined. */
export function readOpsetVersion(model: ModelProto, domain: string): number | undefined {
  const wanted = domain === 'ai.onnx' ? '' : domain;
  const entry = model.opset_import?.find((opset) => (opset.domain === 'ai.onnx' ? '' : (opset.domain ?? '')) === wanted);
  return entry?.version === undefined ? undefined : Number(entry.version);
}
