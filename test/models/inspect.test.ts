import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatInspection } from '../../src/models/inspect/format-inspection.ts';
import { inspectModel } from '../../src/models/inspect/inspect-model.ts';
import { tinyModelPath, type TinyModelName } from '../fixtures/tiny-models.ts';
import { mirrorFolder } from '../support/shared-models.ts';

/** The task of each real model, from the table in ../shared/models/README.md. */
const SHARED_MODEL_TASKS = {
  'sentiment-sst2-mini': 'classify',
  'sentiment-tflite-avgwordvec-imdb': 'classify',
  'langid-fasttext-lid176': 'classify',
  'tinystories-260k': 'generate',
  'summarize-bbc-extractive': 'summarize',
  'ner-conll03-mini-cased': 'extract',
} as const;

/** The task of each generated model, from the architectures in test/fixtures/README.md. */
const TINY_MODEL_TASKS: Record<TinyModelName, string> = {
  'tiny-bert-sequence-classification': 'classify',
  'tiny-bert-token-classification': 'extract',
  'tiny-roberta-token-classification': 'extract',
  'tiny-gpt2-decoder': 'generate',
  'tiny-t5-encoder-decoder': 'summarize',
};

describe('honnx models inspect', () => {
  it.each(Object.entries(SHARED_MODEL_TASKS))('names the task of %s as %s', async (name, task) => {
    const inspection = await inspectModel(join(mirrorFolder, name));
    expect(inspection.task.task).toBe(task);
  });

  it.each(Object.entries(TINY_MODEL_TASKS))('names the task of the generated %s as %s', async (name, task) => {
    const inspection = await inspectModel(tinyModelPath(name as TinyModelName));
    expect(inspection.task.task).toBe(task);
  });

  it('picks the runner each model needs', async () => {
    const runner = async (path: string) => (await inspectModel(path)).task.runner;
    expect(await runner(join(mirrorFolder, 'langid-fasttext-lid176'))).toContain('fastText');
    expect(await runner(join(mirrorFolder, 'summarize-bbc-extractive'))).toContain('extractive sentence scorer');
    expect(await runner(join(mirrorFolder, 'tinystories-260k'))).toBe('decoder-only causal LM (KV cache)');
    expect(await runner(tinyModelPath('tiny-t5-encoder-decoder'))).toBe('encoder-decoder generator (encoder_model + decoder_model_merged, KV cache)');
  });

  it('reports the opset, the I/O contract and the parameter count the model README gives', async () => {
    // sentiment-sst2-mini/README.md: opset 14, three int64 [batch_size, sequence_length] inputs, logits [batch_size, 2], 2,594,882 parameters.
    const sentiment = await inspectModel(join(mirrorFolder, 'sentiment-sst2-mini'));
    const [graph] = sentiment.graphs;
    expect(graph.opsets).toEqual([{ domain: 'ai.onnx', version: 14 }]);
    expect(graph.inputs).toEqual(['input_ids', 'attention_mask', 'token_type_ids'].map((name) => ({ name, type: 'int64', shape: ['batch_size', 'sequence_length'] })));
    expect(graph.outputs).toEqual([{ name: 'logits', type: 'float32', shape: ['batch_size', 2] }]);
    expect(graph.parameterCount).toBe(2_594_882);
    expect(graph.sizeByType).toEqual([{ type: 'float32', tensors: expect.any(Number), elements: 2_594_882, bytes: 2_594_882 * 4 }]);
    expect(graph.bytes).toBe(10_455_934);
    expect(graph.precision).toBe('fp32');
    expect(sentiment.labels).toEqual(['NEGATIVE', 'POSITIVE']);

    // ner-conll03-mini-cased/README.md: 2,367,177 parameters, logits [batch_size, sequence_length, 9].
    const ner = await inspectModel(join(mirrorFolder, 'ner-conll03-mini-cased'));
    expect(ner.graphs[0].parameterCount).toBe(2_367_177);
    expect(ner.graphs[0].outputs[0].shape).toEqual(['batch_size', 'sequence_length', 9]);
    // summarize-bbc-extractive/README.md: 1,603,977 parameters, opset 14, uses Unique.
    const summarizer = await inspectModel(join(mirrorFolder, 'summarize-bbc-extractive'));
    expect(summarizer.graphs[0].parameterCount).toBe(1_603_977);
    expect(summarizer.graphs[0].operators.Unique).toBeGreaterThan(0);
    // langid-fasttext-lid176/README.md: opset 13, logits [batch, 176] and hidden [batch, 16].
    const langid = await inspectModel(join(mirrorFolder, 'langid-fasttext-lid176'));
    expect(langid.graphs[0].opsets[0].version).toBe(13);
    expect(langid.graphs[0].outputs.map((output) => [output.name, output.shape?.at(-1)])).toEqual([
      ['logits', 176],
      ['hidden', 16],
    ]);
  });

  it('inspects a lone graph file with the config.json of its model folder, and prints a readable report', async () => {
    const inspection = await inspectModel(join(mirrorFolder, 'tinystories-260k', 'onnx', 'model.onnx'));
    expect(inspection.configFound).toBe(true);
    expect(inspection.graphs.map((graph) => graph.path)).toEqual(['onnx/model.onnx']);
    // tinystories-260k/README.md: past_key_values.{0..4}.{key,value} float32 [b,4,past,8].
    const past = inspection.graphs[0].inputs.filter((input) => input.name.startsWith('past_key_values.'));
    expect(past).toHaveLength(10);
    expect(past[0]).toMatchObject({ type: 'float32' });
    expect(past[0].shape?.[1]).toBe(4);
    expect(past[0].shape?.[3]).toBe(8);
    const text = formatInspection(inspection);
    expect(text).toContain('task: generate');
    expect(text).toContain('past_key_values.4.value  float32');
    expect(text).toMatch(/parameters: [\d,]+/);
  });

  it('lists every graph of an encoder-decoder and counts the operators inside its subgraphs', async () => {
    const inspection = await inspectModel(tinyModelPath('tiny-t5-encoder-decoder'));
    expect(inspection.graphs.map((graph) => graph.base).sort()).toEqual(['decoder_model_merged', 'encoder_model']);
    const merged = inspection.graphs.find((graph) => graph.base === 'decoder_model_merged')!;
    expect(merged.operators.If).toBe(1);
    expect(merged.inputs.map((input) => input.name)).toContain('use_cache_branch');
  });
});
