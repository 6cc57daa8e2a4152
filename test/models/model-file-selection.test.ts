import { describe, expect, it } from 'vitest';
import { listVariants, parseGraphPath, selectModelFiles } from '../../src/models/model-file-selection.ts';

/** The layout of a typical `Xenova/` classifier export: several variants, PyTorch-free, vocab files beside tokenizer.json. */
const XENOVA_CLASSIFIER = [
  '.gitattributes',
  'README.md',
  'config.json',
  'onnx/model.onnx',
  'onnx/model_bnb4.onnx',
  'onnx/model_fp16.onnx',
  'onnx/model_int8.onnx',
  'onnx/model_q4.onnx',
  'onnx/model_q4f16.onnx',
  'onnx/model_quantized.onnx',
  'onnx/model_uint8.onnx',
  'quantize_config.json',
  'special_tokens_map.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'vocab.txt',
];

/** An `onnx-community/` causal LM: graphs with external data, a chat template file, generation config. */
const ONNX_COMMUNITY_DECODER = [
  'README.md',
  'chat_template.jinja',
  'config.json',
  'generation_config.json',
  'onnx/model.onnx',
  'onnx/model.onnx_data',
  'onnx/model_fp16.onnx',
  'onnx/model_fp16.onnx_data',
  'onnx/model_q4.onnx',
  'onnx/model_q4.onnx_data',
  'onnx/model_q4f16.onnx',
  'special_tokens_map.json',
  'tokenizer.json',
  'tokenizer_config.json',
];

/** An older encoder-decoder export: merged decoder plus the separate graphs it supersedes. */
const SEQ2SEQ = [
  'config.json',
  'generation_config.json',
  'onnx/decoder_model.onnx',
  'onnx/decoder_model_merged.onnx',
  'onnx/decoder_model_merged_quantized.onnx',
  'onnx/decoder_model_quantized.onnx',
  'onnx/decoder_with_past_model.onnx',
  'onnx/encoder_model.onnx',
  'onnx/encoder_model_quantized.onnx',
  'spiece.model',
  'tokenizer.json',
  'tokenizer_config.json',
];

describe('choosing the files a task needs from a repository', () => {
  it('takes the configuration, the tokenizer and one variant of the graph', () => {
    expect(selectModelFiles(XENOVA_CLASSIFIER, 'q4').files).toEqual([
      'config.json',
      'quantize_config.json',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'onnx/model_q4.onnx',
    ]);
    expect(selectModelFiles(XENOVA_CLASSIFIER, 'fp32').graphs).toEqual(['onnx/model.onnx']);
    expect(selectModelFiles(XENOVA_CLASSIFIER, 'q8').graphs).toEqual(['onnx/model_quantized.onnx']);
  });

  it('brings a graph’s external data and the chat template along', () => {
    const { files, graphs } = selectModelFiles(ONNX_COMMUNITY_DECODER, 'q4');
    expect(graphs).toEqual(['onnx/model_q4.onnx']);
    expect(files).toEqual(['chat_template.jinja', 'config.json', 'generation_config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_q4.onnx', 'onnx/model_q4.onnx_data']);
    // q4f16 is its own variant, never mistaken for q4.
    expect(selectModelFiles(ONNX_COMMUNITY_DECODER, 'q4f16').files.filter((file) => file.startsWith('onnx/'))).toEqual(['onnx/model_q4f16.onnx']);
  });

  it('skips decoder graphs that the merged decoder replaces', () => {
    expect(selectModelFiles(SEQ2SEQ, 'fp32').graphs).toEqual(['onnx/decoder_model_merged.onnx', 'onnx/encoder_model.onnx']);
    expect(selectModelFiles(SEQ2SEQ, 'q8').graphs).toEqual(['onnx/decoder_model_merged_quantized.onnx', 'onnx/encoder_model_quantized.onnx']);
  });

  it('reads a graph path as base name and variant', () => {
    expect(parseGraphPath('onnx/decoder_model_merged_q4f16.onnx')).toEqual({ base: 'decoder_model_merged', variant: 'q4f16', graphPath: 'onnx/decoder_model_merged_q4f16.onnx', externalData: false });
    expect(parseGraphPath('onnx/model.onnx_data')).toMatchObject({ base: 'model', variant: 'fp32', externalData: true });
    expect(parseGraphPath('onnx/model_fp16.onnx_data_1')).toMatchObject({ variant: 'fp16', externalData: true });
    expect(parseGraphPath('model.onnx')).toBeUndefined();
    expect(listVariants(XENOVA_CLASSIFIER)).toEqual(['fp32', 'fp16', 'int8', 'uint8', 'q8', 'q4', 'q4f16']);
  });
});
