import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle, type ModelBundle } from '../../src/models/model-bundle.ts';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';
import { createTextGenerator, type TextGenerator } from '../../src/tasks/generate/text-generator.ts';

/** A synthesized chat model, loaded: its bundle (named `qwen3-tiny`), a text generator on it, and how to clean up. */
export interface SynthesizedChatModel {
  folder: string;
  bundle: ModelBundle;
  generator: TextGenerator;
  /** Releases the generator's session and deletes the folder. */
  remove(): Promise<void>;
}

/**
 * A random-weight Qwen3 reduced to one layer of width 64, with the real tokenizer (vocabulary 151,936) and chat
 * template, written into a temp folder and loaded on onnxruntime-node: every mechanism of the full model, in a second.
 */
export async function openSynthesizedChatModel(seed = 7): Promise<SynthesizedChatModel> {
  const root = await mkdtemp(join(tmpdir(), 'honnx-chat-model-'));
  const folder = join(root, 'qwen3-tiny');
  await synthesizeModel({ preset: 'qwen3-0.6b', outputFolder: folder, variant: 'fp32', layers: 1, hiddenSize: 64, seed });
  const bundle = await loadModelBundle(createFolderModelFiles(folder, 'qwen3-tiny'), createNodeEngine({ threads: 1 }));
  const generator = await createTextGenerator(bundle);
  return {
    folder,
    bundle,
    generator,
    async remove() {
      await generator.model.release();
      await rm(root, { recursive: true, force: true });
    },
  };
}
