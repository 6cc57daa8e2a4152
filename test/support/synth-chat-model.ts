import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeModel } from '../../src/models/synth/synthesize-model.ts';

/**
 * A random-weight Qwen3 reduced to one layer of width 64, with the real tokenizer (vocabulary 151,936) and chat
 * template, written into a temp folder: every mechanism of the full model, in a second. `remove` deletes it.
 */
export async function synthesizeChatModel(seed = 7): Promise<{ folder: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'honnx-chat-model-'));
  const folder = join(root, 'qwen3-tiny');
  await synthesizeModel({ preset: 'qwen3-0.6b', outputFolder: folder, variant: 'fp32', layers: 1, hiddenSize: 64, seed });
  return { folder, remove: () => rm(root, { recursive: true, force: true }) };
}
