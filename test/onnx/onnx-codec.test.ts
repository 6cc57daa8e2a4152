import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import type { Feeds, Tensor } from '../../src/engine/engine.ts';
import { decodeModel, encodeModel } from '../../src/onnx/onnx-codec.ts';
import { DataType, type GraphProto, type ModelProto, type ValueInfoProto } from '../../src/onnx/onnx-types.ts';
import { hasMirror, mirrorFolder } from '../support/shared-models.ts';

/** Every .onnx file of the real models in the mirror. */
function listMirrorModels(): { name: string; path: string }[] {
  if (!hasMirror) return [];
  return readdirSync(mirrorFolder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(mirrorFolder, entry.name, 'onnx')))
    .flatMap((entry) =>
      readdirSync(join(mirrorFolder, entry.name, 'onnx'))
        .filter((file) => file.endsWith('.onnx'))
        .map((file) => ({ name: `${entry.name}/onnx/${file}`, path: join(mirrorFolder, entry.name, 'onnx', file) })),
    );
}

function describeGraph(graph: GraphProto | undefined) {
  return {
    name: graph?.name,
    nodes: graph?.node?.map((node) => `${node.domain ?? ''}:${node.op_type}(${node.input?.join(',')})->${node.output?.join(',')}`),
    initializers: graph?.initializer?.map((tensor) => `${tensor.name}:${tensor.data_type}[${tensor.dims?.join(',')}]/${tensor.raw_data?.length}`),
    inputs: graph?.input?.map((value) => value.name),
    outputs: graph?.output?.map((value) => value.name),
  };
}

const models = listMirrorModels();

describe.skipIf(models.length === 0)('ONNX codec on the real models', () => {
  it.each(models)('re-encodes $name to the same bytes and the same graph', ({ path }) => {
    const original = new Uint8Array(readFileSync(path));
    const model = decodeModel(original);
    const reencoded = encodeModel(model);
    // protobufjs writes fields in field-number order, as ONNX's C++ writer does, so nothing moves.
    expect(reencoded.length).toBe(original.length);
    expect(Buffer.compare(Buffer.from(reencoded), Buffer.from(original))).toBe(0);
    const decodedAgain = decodeModel(reencoded);
    expect(describeGraph(decodedAgain.graph)).toEqual(describeGraph(model.graph));
    expect(decodedAgain.opset_import).toEqual(model.opset_import);
    expect(decodedAgain.ir_version).toBe(model.ir_version);
  });
});

/** Feeds for a graph's inputs from their declared shapes: symbolic dims get sizes from `sizes`. */
function createFeeds(inputs: readonly ValueInfoProto[], sizes: Record<string, number>): Feeds {
  const feeds: Feeds = {};
  for (const input of inputs) {
    const tensorType = input.type?.tensor_type;
    const dims = (tensorType?.shape?.dim ?? []).map((dim) => (dim.dim_param !== undefined ? sizes[dim.dim_param] : Number(dim.dim_value)));
    const count = dims.reduce((product, dim) => product * dim, 1);
    if (tensorType?.elem_type === DataType.INT64) {
      // Id 5 is a real token in every vocabulary here; masks of ones, position 0 and token type 0 are valid too.
      const value = input.name!.includes('mask') ? 1n : input.name === 'input_ids' ? 5n : 0n;
      feeds[input.name!] = { type: 'int64', data: new BigInt64Array(count).fill(value), dims };
    } else {
      feeds[input.name!] = { type: 'float32', data: Float32Array.from({ length: count }, (_, index) => Math.sin(index)), dims };
    }
  }
  return feeds;
}

describe.skipIf(models.length === 0)('ONNX codec: edited models still run', () => {
  const sizes = { batch_size: 2, sequence_length: 1, total_sequence_length: 1, past_sequence_length: 0, num_features: 3 };

  it.each(['sentiment-sst2-mini', 'tinystories-260k', 'langid-fasttext-lid176'])(
    '%s gives the same outputs after decode, edit of metadata, encode',
    async (name) => {
      const path = join(mirrorFolder, name, 'onnx/model.onnx');
      const original = new Uint8Array(readFileSync(path));
      const model: ModelProto = decodeModel(original);
      model.producer_name = 'honnx codec test';
      model.metadata_props = [...(model.metadata_props ?? []), { key: 'edited_by', value: 'honnx' }];
      const edited = encodeModel(model);
      expect(decodeModel(edited).metadata_props).toContainEqual({ key: 'edited_by', value: 'honnx' });

      const engine = createNodeEngine({ threads: 1 });
      const before = await engine.createSession(path);
      const after = await engine.createSession(edited);
      const feeds = createFeeds(model.graph!.input!, sizes);
      const expected = await before.run(feeds);
      const actual = await after.run(feeds);
      expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
      for (const [output, tensor] of Object.entries(expected) as [string, Tensor][]) {
        expect(actual[output].dims).toEqual(tensor.dims);
        expect(Array.from(actual[output].data as Float32Array)).toEqual(Array.from(tensor.data as Float32Array));
      }
      await Promise.all([before.release(), after.release()]);
    },
  );
});

describe('ONNX codec: int64 values', () => {
  it('keeps values beyond 2^53 exact as bigint and small ones as numbers', () => {
    const model: ModelProto = {
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      graph: {
        name: 'int64',
        node: [
          {
            op_type: 'Slice',
            input: ['x'],
            output: ['y'],
            attribute: [{ name: 'ends', type: 7, ints: [9223372036854775807n, -9223372036854775808n, -1, 3] }],
          },
        ],
        initializer: [{ name: 'w', data_type: DataType.INT64, dims: [2], int64_data: [2n ** 60n, -7] }],
      },
    };
    const decoded = decodeModel(encodeModel(model));
    expect(decoded.graph!.node![0].attribute![0].ints).toEqual([9223372036854775807n, -9223372036854775808n, -1, 3]);
    expect(decoded.graph!.initializer![0].int64_data).toEqual([2n ** 60n, -7]);
    expect(decoded.graph!.initializer![0].dims).toEqual([2]);
    expect(decoded.ir_version).toBe(8);
  });

  it('distinguishes an absent field from one set to its default', () => {
    const decoded = decodeModel(encodeModel({ graph: { name: 'g', node: [{ op_type: 'Identity', domain: '', input: ['a'], output: ['b'] }] } }));
    expect(decoded.ir_version).toBeUndefined();
    expect(decoded.graph!.node![0].domain).toBe('');
    expect(decoded.graph!.node![0].name).toBeUndefined();
  });
});
