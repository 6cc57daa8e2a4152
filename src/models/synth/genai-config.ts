import type { DecoderShape, SynthPreset } from './synth-presets.ts';

/**
 * The genai_config.json onnxruntime-genai's model builder writes beside a decoder (`builder.py`'s
 * `make_genai_config`): the graph's file, its input and output names, the shapes, and the search defaults.
 * `past_present_share_buffer` is what the CPU build records (false): past and present are separate tensors.
 */
export function createGenaiConfig(preset: SynthPreset, shape: DecoderShape, fileName: string): Record<string, unknown> {
  const generation = preset.generationConfig;
  return {
    model: {
      bos_token_id: generation.bos_token_id,
      context_length: shape.maxPositions,
      decoder: {
        session_options: { log_id: 'onnxruntime-genai', provider_options: [] },
        filename: fileName,
        head_size: shape.headDimension,
        hidden_size: shape.hiddenSize,
        inputs: {
          input_ids: 'input_ids',
          attention_mask: 'attention_mask',
          past_key_names: 'past_key_values.%d.key',
          past_value_names: 'past_key_values.%d.value',
        },
        outputs: { logits: 'logits', present_key_names: 'present.%d.key', present_value_names: 'present.%d.value' },
        num_attention_heads: shape.heads,
        num_hidden_layers: shape.layers,
        num_key_value_heads: shape.keyValueHeads,
      },
      eos_token_id: generation.eos_token_id,
      pad_token_id: generation.pad_token_id,
      type: shape.family,
      vocab_size: shape.vocabularySize,
    },
    search: {
      diversity_penalty: 0,
      do_sample: false,
      early_stopping: true,
      length_penalty: 1,
      max_length: shape.maxPositions,
      min_length: 0,
      no_repeat_ngram_size: 0,
      num_beams: 1,
      num_return_sequences: 1,
      past_present_share_buffer: false,
      repetition_penalty: 1,
      temperature: 1,
      top_k: 1,
      top_p: 1,
    },
  };
}
