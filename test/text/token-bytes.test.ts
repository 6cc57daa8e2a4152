import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import type { TextTokenizer } from '../../src/text/tokenizer.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';
import { tinyModelsFolder } from '../fixtures/tiny-models.ts';

async function loadTokenizer(files: ReturnType<typeof mirrorModelFiles>): Promise<TextTokenizer> {
  const bundle = await loadModelBundle(files, createNodeEngine({ threads: 1 }));
  return bundle.tokenizer!;
}

const cases = [
  { name: 'byte-level BPE (tiny-gpt2-decoder)', files: () => createFolderModelFiles(join(tinyModelsFolder, 'tiny-gpt2-decoder'), 'tiny-gpt2-decoder') },
  { name: 'SentencePiece-style BPE with byte pieces (tinystories-260k)', files: () => mirrorModelFiles('tinystories-260k') },
];

describe.each(cases)('token bytes: $name', ({ files }) => {
  const texts = ['Once upon a time, {"name": "Lily", "age": 3}', 'naïve café – 日本 🎉', '\t[1, -2.5e3]\n'];

  it("joins each token's bytes back into the decoded text", async () => {
    const tokenizer = await loadTokenizer(files());
    const vocabulary = tokenizer.tokenBytes();
    const decoder = new TextDecoder();
    for (const text of texts) {
      const { ids } = tokenizer.encode(text, { addSpecialTokens: false });
      const joined = decoder.decode(Uint8Array.from(ids.flatMap((id) => [...(vocabulary.bytesOf(id) ?? [])])));
      // Both tokenizers add a space before the text (add_prefix_space, a prepended "▁"); the decoder strips it or not.
      expect(joined.trimStart()).toBe(tokenizer.decode(ids).trimStart());
      expect(joined.trimStart()).toBe(text.trimStart());
    }
  });

  it('gives special tokens no bytes, and single ids their text', async () => {
    const tokenizer = await loadTokenizer(files());
    const vocabulary = tokenizer.tokenBytes();
    const eos = tokenizer.specialIds.eos!;
    expect(vocabulary.bytesOf(eos)).toBeUndefined();
    expect(vocabulary.bytesOf(vocabulary.size)).toBeUndefined();
    const [id] = tokenizer.encode('{', { addSpecialTokens: false }).ids.slice(-1);
    expect(vocabulary.textOf(id)?.endsWith('{')).toBe(true);
    // Every byte value is reachable from some token: a grammar can always spell what it needs.
    const reachable = new Set<number>();
    for (let token = 0; token < vocabulary.size; token++) for (const byte of vocabulary.bytesOf(token) ?? []) reachable.add(byte);
    expect(reachable.size).toBe(256);
  });
});
