import { createNode, createValueInfo } from './graph-builder.ts';
import type { ModelProto, NodeProto } from './onnx-types.ts';
import { createTensor } from './tensor-data.ts';

const INPUT = 'logits_to_keep';
const PREFIX = 'honnx_logits_to_keep';
// Nodes a causal LM's export may put between its lm_head and the `logits` output.
const PASS_THROUGH = new Set(['Identity', 'Cast']);
const HEADS = new Set(['MatMul', 'MatMulNBits']);

/** The lm_head: the MatMul (or MatMulNBits) whose product becomes `logits`, through Identity or Cast only. */
function findHead(producers: ReadonlyMap<string, NodeProto>): NodeProto | undefined {
  let name = 'logits';
  for (let hops = 0; hops < 4; hops++) {
    const node = producers.get(name);
    if (!node) return undefined;
    if (HEADS.has(node.op_type ?? '')) return node;
    if (!PASS_THROUGH.has(node.op_type ?? '')) return undefined;
    name = node.input?.[0] ?? '';
  }
  return undefined;
}

/**
 * Gives a causal LM's graph transformers' `logits_to_keep` input (an int64 scalar; 0 keeps every position): the
 * lm_head then multiplies only the last `logits_to_keep` positions of the final hidden states, so a prefill of 128
 * tokens computes one row of logits instead of 128 (a quarter of a 0.6B model's prefill work, and 78 MB of output at
 * a 151,936 vocabulary). Optimum's exports lack it. The input is required: ONNX Runtime neither lists an input that
 * has a default (an initializer of the same name) nor folds it, so only a caller that feeds it asks for this.
 * Returns false, changing nothing, for a graph that has the input already (or `num_logits_to_keep`), has no
 * `input_ids` and `logits`, or whose `logits` do not come from a MatMul on the hidden states.
 */
export function addLogitsToKeep(model: ModelProto): boolean {
  const graph = model.graph;
  if (!graph?.node || Number(model.ir_version ?? 0) < 4) return false;
  const inputs = new Set((graph.input ?? []).map((input) => input.name));
  if (inputs.has(INPUT) || inputs.has('num_logits_to_keep') || !inputs.has('input_ids')) return false;
  if (!(graph.output ?? []).some((output) => output.name === 'logits')) return false;
  const producers = new Map<string, NodeProto>();
  for (const node of graph.node) for (const output of node.output ?? []) producers.set(output, node);
  const head = findHead(producers);
  const hidden = head?.input?.[0];
  const initializers = new Set((graph.initializer ?? []).map((tensor) => tensor.name));
  if (!head || !hidden || initializers.has(hidden)) return false;

  const sliced = `${PREFIX}_hidden`;
  const added = [
    createNode('Neg', [INPUT], [`${PREFIX}_negated`], {}, { name: `${PREFIX}_neg` }),
    createNode('Reshape', [`${PREFIX}_negated`, `${PREFIX}_one_element`], [`${PREFIX}_starts`], {}, { name: `${PREFIX}_reshape` }),
    // Slice(hidden, -k, end, axis 1): the last k positions; -0 is 0, so k = 0 keeps them all.
    createNode('Slice', [hidden, `${PREFIX}_starts`, `${PREFIX}_ends`, `${PREFIX}_axes`], [sliced], {}, { name: `${PREFIX}_slice` }),
  ];
  head.input![0] = sliced;
  graph.node.splice(graph.node.indexOf(head), 0, ...added);
  graph.input = [...(graph.input ?? []), createValueInfo(INPUT, 'int64', [])];
  graph.initializer = [
    ...(graph.initializer ?? []),
    createTensor(`${PREFIX}_one_element`, BigInt64Array.of(1n), [1]),
    createTensor(`${PREFIX}_ends`, BigInt64Array.of(2n ** 63n - 1n), [1]),
    createTensor(`${PREFIX}_axes`, BigInt64Array.of(1n), [1]),
  ];
  return true;
}
