import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeModel, encodeModel } from '../../src/onnx/index.ts';
import { mirrorFolder } from '../support/shared-models.ts';

/** Where the feature-extraction copy of sentiment-sst2-mini is written (ignored by git, rebuilt when missing). */
export const featureModelsFolder = join(import.meta.dirname, '../../.cache/feature-models');
export const FEATURE_MODEL = 'sst2-mini-features';

/** The last encoder layer's output of the real BERT (the tensor its pooler reads the [CLS] row of). */
const LAST_HIDDEN_STATE = '/encoder/layer.3/output/LayerNorm/Add_1_output_0';

/**
 * sentiment-sst2-mini as a feature extractor: the same graph and weights with the last encoder layer as its output
 * `last_hidden_state` ([batch, sequence, 192]), as a BertModel export has, and config.json saying BertModel. No
 * encoder in the mirror exports its hidden states; this is the real model's, not a random one.
 */
export async function writeFeatureModel(): Promise<string> {
  const source = join(mirrorFolder, 'sentiment-sst2-mini');
  const folder = join(featureModelsFolder, FEATURE_MODEL);
  await mkdir(join(folder, 'onnx'), { recursive: true });
  const model = decodeModel(await readFile(join(source, 'onnx/model.onnx')));
  const graph = model.graph!;
  graph.node!.push({ op_type: 'Identity', name: 'last_hidden_state_output', input: [LAST_HIDDEN_STATE], output: ['last_hidden_state'] });
  graph.output = [
    {
      name: 'last_hidden_state',
      type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'batch_size' }, { dim_param: 'sequence_length' }, { dim_value: 192 }] } } },
    },
  ];
  await writeFile(join(folder, 'onnx/model.onnx'), encodeModel(model));
  const config = JSON.parse(await readFile(join(source, 'config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(folder, 'config.json'), JSON.stringify({ ...config, architectures: ['BertModel'] }, null, 2));
  for (const file of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    await copyFile(join(source, file), join(folder, file)).catch(() => undefined);
  }
  return folder;
}
