import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { addLogitsToKeep, encodeModel, readModelOutline, setMatMulNBitsAccuracy, useGroupQueryAttention } from '../onnx/index.ts';

/** Which load-time rewrites to apply to a graph. */
export interface GraphRewrites {
  /** accuracy_level 4 on every com.microsoft MatMulNBits that leaves it unset or 0 (int8 activations). */
  int8MatMul?: boolean;
  /** A `logits_to_keep` input on a causal LM that lacks one, so a prefill computes the last position's logits only. */
  logitsToKeep?: boolean;
  /** com.microsoft GroupQueryAttention in place of an optimum decoder's Concat + head repeat + MatMul attention. */
  groupQueryAttention?: boolean;
}

/** A rewritten graph: the small model to open, and the folder its weights are read from. */
export interface RewrittenGraph {
  /** The rewritten model without its weights: each large initializer references its bytes in the original file. */
  bytes: Uint8Array;
  /** The original file's folder, where ONNX Runtime reads the weights (the original file, and any `_data` file). */
  externalDataFolder: string;
  /** MatMulNBits nodes whose accuracy_level was set to 4. */
  int8MatMulNodes: number;
  /** Whether a `logits_to_keep` input was added. */
  logitsToKeep: boolean;
  /** Layers whose attention became one GroupQueryAttention node (0 when the rewrite was not asked or refused). */
  groupQueryAttentionLayers: number;
  /** Why the graph's attention was left as exported, when the GroupQueryAttention rewrite was asked and refused. */
  groupQueryAttentionRefused?: string;
}

/**
 * The graph at `path` with `rewrites` applied, or undefined when none applies (no MatMulNBits without a level, a
 * graph that is no causal LM or has the input already). Only the graph's structure is read (a few reads, whatever
 * the file's size); the weights stay where they are and are never copied: the original file is left untouched and
 * nothing is written to disk.
 */
export function rewriteGraph(path: string, rewrites: GraphRewrites): RewrittenGraph | undefined {
  if (!rewrites.int8MatMul && !rewrites.logitsToKeep && !rewrites.groupQueryAttention) return undefined;
  const descriptor = openSync(path, 'r');
  try {
    const readAt = (position: number, length: number) => {
      const bytes = new Uint8Array(length);
      return bytes.subarray(0, readSync(descriptor, bytes, 0, length, position));
    };
    const { model } = readModelOutline(readAt, fstatSync(descriptor).size, { location: basename(path) });
    const int8MatMulNodes = rewrites.int8MatMul ? setMatMulNBitsAccuracy(model, 4) : 0;
    const logitsToKeep = rewrites.logitsToKeep ? addLogitsToKeep(model) : false;
    const attention = rewrites.groupQueryAttention ? useGroupQueryAttention(model) : { layers: 0 };
    if (int8MatMulNodes === 0 && !logitsToKeep && attention.layers === 0) return undefined;
    return {
      bytes: encodeModel(model),
      externalDataFolder: dirname(path),
      int8MatMulNodes,
      logitsToKeep,
      groupQueryAttentionLayers: attention.layers,
      ...(attention.refused === undefined ? {} : { groupQueryAttentionRefused: attention.refused }),
    };
  } finally {
    closeSync(descriptor);
  }
}
