import { afterAll, describe, expect, it } from 'vitest';
import type { EngineSession } from '../../src/engine/engine.ts';
import { readAttribute } from '../../src/onnx/attributes.ts';
import { GraphBuilder, createModel } from '../../src/onnx/graph-builder.ts';
import { decodeModel, encodeModel } from '../../src/onnx/onnx-codec.ts';
import { AttributeType, DataLocation, DataType, type TensorProto } from '../../src/onnx/onnx-types.ts';
import { createTensor, readFloat32Values, readInitializer, readTensorValues, type TensorValues } from '../../src/onnx/tensor-data.ts';
import { enginesUnderTest } from '../support/engines.ts';

/**
 * y = If(use_double) then QuickGelu(x)·2 else QuickGelu(x) + offset, with QuickGelu from the com.microsoft domain:
 * a model that needs subgraphs, outer-scope reads, float and int attributes and two opset domains.
 */
function buildTestModel(): Uint8Array {
  const graph = new GraphBuilder('builder_test');
  const x = graph.addInput('x', 'float32', ['batch_size', 3]);
  const useDouble = graph.addInput('use_double', 'bool', [1]);
  const offset = graph.addInitializer('offset', new Float32Array([0.5, -1, 2]), [3]);
  const activated = graph.op('QuickGelu', [x], { alpha: { float: 1.702 } }, { domain: 'com.microsoft' });

  const doubled = graph.createSubgraph('then');
  const two = doubled.addInitializer('two', new Float32Array([2]), []);
  doubled.addOutput(doubled.op('Mul', [activated, two]), 'float32');
  const shifted = graph.createSubgraph('else');
  shifted.addOutput(shifted.op('Add', [activated, offset]), 'float32');

  graph.addNode('If', [useDouble], ['y'], { then_branch: { graph: doubled.build() }, else_branch: { graph: shifted.build() } });
  graph.addOutput('y', 'float32', ['batch_size', 3]);
  // A Shape → Gather on an int64 initializer, to check int64 tensors and int attributes.
  const shape = graph.op('Shape', [x]);
  graph.addNode('Gather', [shape, graph.addInitializer('axis_index', new BigInt64Array([1n]), [])], ['width'], { axis: 0 });
  graph.addOutput('width', 'int64', []);
  return encodeModel(createModel(graph.build(), { opsets: { '': 17, 'com.microsoft': 1 } }));
}

const toList = (values: TensorValues): unknown[] => Array.from(values as ArrayLike<unknown>);

const quickGelu = (value: number) => value / (1 + Math.exp(-1.702 * value));

describe('GraphBuilder', () => {
  const bytes = buildTestModel();

  it('writes the attributes, domains and subgraphs it was given', () => {
    const model = decodeModel(bytes);
    expect(model.opset_import).toEqual([
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ]);
    const nodes = model.graph!.node!;
    const gelu = nodes.find((node) => node.op_type === 'QuickGelu')!;
    expect(gelu.domain).toBe('com.microsoft');
    expect(gelu.attribute![0].type).toBe(AttributeType.FLOAT);
    expect(readAttribute(gelu.attribute![0])).toBeCloseTo(1.702, 5);
    const branch = nodes.find((node) => node.op_type === 'If')!;
    expect(branch.attribute!.map((attribute) => [attribute.name, attribute.type])).toEqual([
      ['then_branch', AttributeType.GRAPH],
      ['else_branch', AttributeType.GRAPH],
    ]);
    expect(branch.attribute![0].g!.initializer![0].name).toBe('two');
    expect(model.graph!.input![0].type!.tensor_type!.shape!.dim).toEqual([{ dim_param: 'batch_size' }, { dim_value: 3 }]);
    expect(toList(readInitializer(model.graph!, 'offset'))).toEqual([0.5, -1, 2]);
    expect(toList(readInitializer(model.graph!, 'axis_index'))).toEqual([1n]);
  });

  it('refuses a value name that is already used, in the graph or an outer scope', () => {
    const graph = new GraphBuilder('names');
    graph.addInput('x', 'float32');
    expect(() => graph.addInitializer('x', new Float32Array([1]), [])).toThrow(/already used/);
    expect(() => graph.createSubgraph('inner').addInitializer('x', new Float32Array([1]), [])).toThrow(/already used/);
    expect(graph.freshName('x')).toBe('x_1');
  });

  for (const engineUnderTest of enginesUnderTest) {
    describe(`runs on ${engineUnderTest.name}`, () => {
      let session: EngineSession;
      afterAll(() => session?.release());

      it.each([true, false])('takes the If branch chosen by use_double=%s', async (useDouble) => {
        session ??= await engineUnderTest.create().createSession(bytes);
        const input = Float32Array.from([-2, -0.5, 0, 0.25, 1, 3]);
        const result = await session.run({
          x: { type: 'float32', data: input, dims: [2, 3] },
          use_double: { type: 'bool', data: Uint8Array.from([useDouble ? 1 : 0]), dims: [1] },
        });
        const offsets = [0.5, -1, 2];
        const expected = Array.from(input, (value, index) => (useDouble ? quickGelu(value) * 2 : quickGelu(value) + offsets[index % 3]));
        expect(result.y.dims).toEqual([2, 3]);
        Array.from(result.y.data as Float32Array).forEach((value, index) => expect(value).toBeCloseTo(expected[index], 4));
        expect(Array.from(result.width.data as BigInt64Array)).toEqual([3n]);
      });
    });
  }
});

describe('tensor values', () => {
  it('round-trips every typed array through raw_data', () => {
    const arrays = [
      Float32Array.from([1.5, -2, 3e-8]),
      Float64Array.from([Math.PI, -1]),
      Int8Array.from([-128, 127]),
      Uint8Array.from([0, 255]),
      Int16Array.from([-32768, 7]),
      Uint16Array.from([65535, 1]),
      Int32Array.from([-(2 ** 31), 2 ** 31 - 1]),
      Uint32Array.from([2 ** 32 - 1]),
      BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]),
      BigUint64Array.from([2n ** 64n - 1n]),
    ];
    for (const values of arrays) {
      const tensor = decodeModel(encodeModel({ graph: { initializer: [createTensor('t', values, [values.length])] } })).graph!.initializer![0];
      const read = readTensorValues(tensor);
      expect(read.constructor).toBe(values.constructor);
      expect(toList(read)).toEqual(toList(values));
    }
  });

  it('reads the typed *_data fields and external data', () => {
    const floats: TensorProto = { name: 'f', data_type: DataType.FLOAT, dims: [2], float_data: [1, 2] };
    expect(Array.from(readFloat32Values(floats))).toEqual([1, 2]);
    const halves: TensorProto = { name: 'h', data_type: DataType.FLOAT16, dims: [1], int32_data: [0x3c00] };
    expect(toList(readTensorValues(halves))).toEqual([0x3c00]);
    const longs: TensorProto = { name: 'l', data_type: DataType.INT64, dims: [2], int64_data: [3, 2n ** 62n] };
    expect(toList(readTensorValues(longs))).toEqual([3n, 2n ** 62n]);
    const external: TensorProto = {
      name: 'e',
      data_type: DataType.FLOAT,
      dims: [2],
      data_location: DataLocation.EXTERNAL,
      external_data: [
        { key: 'location', value: 'weights.bin' },
        { key: 'offset', value: '4' },
        { key: 'length', value: '8' },
      ],
    };
    const file = new Uint8Array(new Float32Array([9, 4, 5]).buffer);
    const read = readFloat32Values(external, {
      readExternalData: ({ location, offset, length }) => {
        expect(location).toBe('weights.bin');
        return file.subarray(offset, offset + length!);
      },
    });
    expect(Array.from(read)).toEqual([4, 5]);
    expect(() => readTensorValues(external)).toThrow(/external/);
    expect(() => readFloat32Values(longs)).toThrow(/int64, not float32/);
  });
});
