import { describe, expect, it } from 'vitest';
import type { Engine, EngineSession, Feeds, Tensor } from '../../src/engine/engine.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import type { EntityGroup } from '../../src/tasks/extract/aggregate-entities.ts';
import { createEntityExtractor } from '../../src/tasks/extract/entity-extractor.ts';
import { extractEntities } from '../../src/tasks/extract/extract-entities.ts';
import { planWindows } from '../../src/tasks/extract/token-windows.ts';
import { hasMirror, mirrorModelFiles } from '../support/shared-models.ts';

/**
 * Windows over texts longer than the model reads. A real model's labels shift with context, which would blur
 * what windowing itself does, so here the model is a stand-in that labels each token id the same wherever it is:
 * the names' tokens are PER or LOC, everything else O. With that, the entities of a long text are known
 * exactly, whatever the window size and stride, and any entity lost or cut in two at a window boundary shows.
 */

const PEOPLE = ['Angela Merkel', 'Emmanuel Macron', 'Nadim Ladki', 'Sarah'];
const PLACES = ['Paris', 'London', 'California', 'United Arab Emirates'];
const FILLER = ['met', 'in', 'on', 'Tuesday', 'and', 'the', 'said', 'with', 'a', 'report', 'from', '.', ','];

/** A model that gives token id `id` the label `labelOf(id)` with a fixed, confident score. */
function createContextFreeEngine(labelOf: (id: number) => number, labelCount: number): Engine {
  const session: EngineSession = {
    executionProvider: 'stand-in',
    inputs: ['input_ids', 'attention_mask', 'token_type_ids'].map((name) => ({ name, type: 'int64', shape: ['batch', 'sequence'] })),
    outputs: [{ name: 'logits', type: 'float32', shape: ['batch', 'sequence', labelCount] }],
    async run(feeds: Feeds): Promise<Record<string, Tensor>> {
      const ids = feeds.input_ids.data as BigInt64Array;
      const [rows, width] = feeds.input_ids.dims;
      const logits = new Float32Array(rows * width * labelCount);
      for (let position = 0; position < rows * width; position++) logits[position * labelCount + labelOf(Number(ids[position]))] = 6;
      return { logits: { type: 'float32', data: logits, dims: [rows, width, labelCount] } };
    },
    async release() {},
  };
  return { name: 'stand-in', acceptsPaths: false, createSession: async () => session };
}

describe.skipIf(!hasMirror)('extractEntities over texts longer than the model reads', () => {
  it('finds every entity whole and once, whatever the window size and stride', async () => {
    const files = mirrorModelFiles('ner-conll03-mini-cased');
    const labels = ['O', 'B-MISC', 'I-MISC', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC'];
    // Learn the names' token ids from the real tokenizer; the stand-in labels those ids and nothing else.
    const probe = await loadModelBundle(files, createContextFreeEngine(() => 0, labels.length));
    const tokenizer = probe.tokenizer!;
    const nameLabels = new Map<number, number>();
    for (const [names, begin] of [[PEOPLE, 3], [PLACES, 7]] as const) {
      for (const name of names) {
        tokenizer.encode(name, { addSpecialTokens: false }).ids.forEach((id, index) => nameLabels.set(id, index === 0 ? begin : begin + 1));
      }
    }
    for (const word of FILLER) {
      for (const id of tokenizer.encode(word, { addSpecialTokens: false }).ids) expect(nameLabels.has(id), `filler "${word}" shares a token with a name`).toBe(false);
    }
    const engine = createContextFreeEngine((id) => nameLabels.get(id) ?? 0, labels.length);
    const bundle = await loadModelBundle(files, engine);

    // Names at every distance from every cut: one to five filler words between them.
    const parts: string[] = [];
    const expected: { entity_group: string; word: string; start: number; end: number }[] = [];
    let length = 0;
    const append = (piece: string) => {
      if (parts.length > 0) length += 1;
      parts.push(piece);
      length += piece.length;
    };
    for (let index = 0; index < 60; index++) {
      for (let filler = 0; filler <= index % 5; filler++) append(FILLER[(index * 7 + filler) % FILLER.length]);
      const person = index % 2 === 0;
      const name = person ? PEOPLE[index % PEOPLE.length] : PLACES[index % PLACES.length];
      append(name);
      expected.push({ entity_group: person ? 'PER' : 'LOC', word: name, start: length - name.length, end: length });
    }
    const text = parts.join(' ');
    const tokenCount = tokenizer.encode(text, { addSpecialTokens: false }).ids.length;
    let straddling = 0;

    for (const maxLength of [12, 24, 128]) {
      const extractor = await createEntityExtractor(bundle, { maxLength });
      expect(tokenCount).toBeGreaterThan(extractor.windowSize * 3);
      for (const stride of [0, 1, 3, Math.floor(extractor.windowSize / 4), extractor.windowSize - 1]) {
        const encoded = tokenizer.encodeWithOffsets(text);
        const cuts = planWindows(tokenCount, extractor.windowSize, stride)
          .flatMap((window) => [window.start, window.end])
          .filter((cut) => cut > 0 && cut < tokenCount)
          .map((cut) => encoded.offsets[extractor.prefixIds.length + cut][0]);
        straddling += expected.filter((entity) => cuts.some((cut) => entity.start < cut && cut < entity.end)).length;
        for (const strategy of ['simple', 'first', 'average', 'max'] as const) {
          const [entities] = await extractEntities(extractor, [text], { aggregationStrategy: strategy, stride });
          const found = (entities as EntityGroup[]).map(({ entity_group, word, start, end }) => ({ entity_group, word, start, end }));
          expect(found, `maxLength ${maxLength}, stride ${stride}, ${strategy}`).toEqual(expected);
        }
        // And no token is lost or read twice: one label per token, in order.
        const [tokens] = await extractEntities(extractor, [text], { aggregationStrategy: 'none', ignoreLabels: [] });
        expect(tokens.map((token) => (token as { index: number }).index)).toEqual(Array.from({ length: tokenCount }, (_, index) => index + 1));
      }
    }
    // The text really does put entities across window boundaries.
    expect(straddling).toBeGreaterThan(20);
  });
});
