import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineSession, Feeds, Tensor } from '../../src/engine/engine.ts';
import { createFolderModelFiles } from '../../src/models/folder-model-files.ts';
import { loadModelBundle, requireTokenizer, type ModelBundle } from '../../src/models/model-bundle.ts';
import { ensureTinyModels, tinyModelPath, type TinyModelName } from '../fixtures/tiny-models.ts';
import { enginesUnderTest } from '../support/engines.ts';

/**
 * The tiny generated models on every engine: right shapes, padding and batching change nothing for the
 * encoders, and decoding with the KV cache gives the logits of decoding without it.
 */

const TOLERANCE = 1e-4;

const int64 = (rows: readonly (readonly number[])[]): Tensor => ({
  type: 'int64',
  data: BigInt64Array.from(rows.flat(), (value) => BigInt(value)),
  dims: [rows.length, rows[0]?.length ?? 0],
});

const emptyCache = (batch: number, heads: number, headDim: number): Tensor => ({ type: 'float32', data: new Float32Array(0), dims: [batch, heads, 0, headDim] });

function floats(tensor: Tensor): Float32Array {
  return tensor.data as Float32Array;
}

/** Row `row` of a [rows, ...] tensor, flattened. */
function sliceRow(tensor: Tensor, row: number, length?: number): Float32Array {
  const rowSize = tensor.dims.slice(1).reduce((product, dim) => product * dim, 1);
  const start = row * rowSize;
  return floats(tensor).subarray(start, start + (length ?? rowSize));
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let largest = 0;
  for (let index = 0; index < a.length; index++) largest = Math.max(largest, Math.abs(a[index] - b[index]));
  return largest;
}

function padRows(rows: readonly number[][], width: number, padId: number, side: 'right' | 'left' = 'right'): { ids: number[][]; mask: number[][] } {
  const ids = rows.map((row) => (side === 'right' ? [...row, ...Array(width - row.length).fill(padId)] : [...Array(width - row.length).fill(padId), ...row]));
  const mask = rows.map((row) => (side === 'right' ? [...row.map(() => 1), ...Array(width - row.length).fill(0)] : [...Array(width - row.length).fill(0), ...row.map(() => 1)]));
  return { ids, mask };
}

async function openModel(engineUnderTest: (typeof enginesUnderTest)[number], name: TinyModelName): Promise<ModelBundle> {
  return loadModelBundle(createFolderModelFiles(tinyModelPath(name), name), engineUnderTest.create());
}

beforeAll(async () => {
  await ensureTinyModels();
}, 60_000);

for (const engineUnderTest of enginesUnderTest) {
  describe(`tiny models on ${engineUnderTest.name}`, () => {
    const sessions: EngineSession[] = [];
    afterAll(async () => {
      await Promise.all(sessions.map((session) => session.release()));
    });
    const open = async (model: ModelBundle, graph?: string) => {
      const session = await model.openSession(graph);
      sessions.push(session);
      return session;
    };

    describe.each([
      { name: 'tiny-bert-sequence-classification' as const, labels: 3, perToken: false },
      { name: 'tiny-bert-token-classification' as const, labels: 5, perToken: true },
      { name: 'tiny-roberta-token-classification' as const, labels: 5, perToken: true },
    ])('$name', ({ name, labels, perToken }) => {
      const texts = ['The movie was wonderful', 'José went to Zürich 😀', 'bad'];

      it('gives the same logits for a right-padded batch as for each text alone', async () => {
        const model = await openModel(engineUnderTest, name);
        const tokenizer = requireTokenizer(model);
        const session = await open(model);
        const hasTokenTypes = session.inputs.some((input) => input.name === 'token_type_ids');
        expect(session.inputs.map((input) => input.name)).toEqual(hasTokenTypes ? ['input_ids', 'attention_mask', 'token_type_ids'] : ['input_ids', 'attention_mask']);
        const rows = texts.map((text) => tokenizer.encode(text).ids);
        const run = async (ids: number[][], mask: number[][]) => {
          const feeds: Feeds = { input_ids: int64(ids), attention_mask: int64(mask) };
          if (hasTokenTypes) feeds.token_type_ids = int64(ids.map((row) => row.map(() => 0)));
          return (await session.run(feeds)).logits;
        };
        // Padded well past the longest row, up to the model's limit, to exercise the mask hard.
        const width = tokenizer.modelMaxLength;
        const padded = padRows(rows, width, tokenizer.specialIds.pad!);
        const batch = await run(padded.ids, padded.mask);
        expect(batch.dims).toEqual(perToken ? [texts.length, width, labels] : [texts.length, labels]);
        const alone: Float32Array[] = [];
        for (const [row, ids] of rows.entries()) {
          const single = await run([ids], [ids.map(() => 1)]);
          expect(single.dims).toEqual(perToken ? [1, ids.length, labels] : [1, labels]);
          alone.push(floats(single));
          const realLength = perToken ? ids.length * labels : labels;
          expect(maxDifference(sliceRow(batch, row, realLength), floats(single))).toBeLessThan(TOLERANCE);
        }
        // Random weights, yet different texts must still get different logits.
        expect(maxDifference(alone[0].subarray(0, labels), alone[2].subarray(0, labels))).toBeGreaterThan(1e-3);
      });
    });

    describe('tiny-gpt2-decoder', () => {
      let model: ModelBundle;
      let session: EngineSession;
      let heads: number;
      let headDim: number;
      let layers: number;
      beforeAll(async () => {
        model = await openModel(engineUnderTest, 'tiny-gpt2-decoder');
        session = await open(model);
        heads = model.config.num_key_value_heads as number;
        headDim = model.config.head_dim as number;
        layers = model.config.num_hidden_layers as number;
      });

      const feedsFor = (ids: number[][], mask: number[][], positions: number[][], past: Record<string, Tensor> | undefined): Feeds => {
        const feeds: Feeds = { input_ids: int64(ids), attention_mask: int64(mask), position_ids: int64(positions) };
        for (let layer = 0; layer < layers; layer++) {
          for (const kind of ['key', 'value']) {
            feeds[`past_key_values.${layer}.${kind}`] = past?.[`present.${layer}.${kind}`] ?? emptyCache(ids.length, heads, headDim);
          }
        }
        return feeds;
      };

      it('declares the KV-cache inputs and outputs', () => {
        const cacheNames = Array.from({ length: layers }, (_, layer) => [`${layer}.key`, `${layer}.value`]).flat();
        expect(session.inputs.map((input) => input.name)).toEqual(['input_ids', 'attention_mask', 'position_ids', ...cacheNames.map((name) => `past_key_values.${name}`)]);
        expect(session.outputs.map((output) => output.name)).toEqual(['logits', ...cacheNames.map((name) => `present.${name}`)]);
      });

      it('gives every position the same logits token by token with the cache as in one run without it', async () => {
        const ids = requireTokenizer(model).encode('The movie was wonderful and').ids;
        const full = (await session.run(feedsFor([ids], [ids.map(() => 1)], [ids.map((_, index) => index)], undefined))).logits;
        const vocabSize = full.dims[2];
        expect(full.dims).toEqual([1, ids.length, model.config.vocab_size]);
        let past: Record<string, Tensor> | undefined;
        for (let step = 0; step < ids.length; step++) {
          const result = await session.run(feedsFor([[ids[step]]], [Array(step + 1).fill(1)], [[step]], past));
          expect(result['present.0.key'].dims).toEqual([1, heads, step + 1, headDim]);
          const expected = floats(full).subarray(step * vocabSize, (step + 1) * vocabSize);
          expect(maxDifference(floats(result.logits), expected)).toBeLessThan(TOLERANCE);
          past = result;
        }
      });

      it('gives a left-padded batch the logits of each prompt alone, then keeps them equal with the cache', async () => {
        const tokenizer = requireTokenizer(model);
        const prompts = ['The movie was', 'Mary went to Paris with her friend'].map((text) => tokenizer.encode(text).ids);
        const width = Math.max(...prompts.map((prompt) => prompt.length));
        const { ids, mask } = padRows(prompts, width, tokenizer.specialIds.eos!, 'left');
        const positions = mask.map((row) => row.map((_, index) => Math.max(0, index - row.indexOf(1))));
        const batch = await session.run(feedsFor(ids, mask, positions, undefined));
        const vocabSize = batch.logits.dims[2];
        const nextIds = [7, 11];
        const step = await session.run(feedsFor(nextIds.map((id) => [id]), mask.map((row) => [...row, 1]), prompts.map((prompt) => [prompt.length]), batch));
        for (const [row, prompt] of prompts.entries()) {
          const alone = await session.run(feedsFor([prompt], [prompt.map(() => 1)], [prompt.map((_, index) => index)], undefined));
          const last = floats(batch.logits).subarray((row * width + width - 1) * vocabSize, (row * width + width) * vocabSize);
          expect(maxDifference(last, floats(alone.logits).subarray((prompt.length - 1) * vocabSize))).toBeLessThan(TOLERANCE);
          const aloneStep = await session.run(feedsFor([[nextIds[row]]], [[...prompt.map(() => 1), 1]], [[prompt.length]], alone));
          expect(maxDifference(sliceRow(step.logits, row), floats(aloneStep.logits))).toBeLessThan(TOLERANCE);
        }
      });
    });

    describe('tiny-t5-encoder-decoder', () => {
      let model: ModelBundle;
      let encoder: EngineSession;
      let decoder: EngineSession;
      beforeAll(async () => {
        model = await openModel(engineUnderTest, 'tiny-t5-encoder-decoder');
        encoder = await open(model, 'encoder_model');
        decoder = await open(model, 'decoder_model_merged');
      });

      const decode = (
        decoderIds: number[][],
        encoderOutput: Tensor,
        encoderMask: number[][],
        past: Record<string, Tensor> | undefined,
      ): Promise<Record<string, Tensor>> => {
        const heads = model.config.num_heads as number;
        const headDim = model.config.d_kv as number;
        const feeds: Feeds = {
          encoder_attention_mask: int64(encoderMask),
          input_ids: int64(decoderIds),
          encoder_hidden_states: encoderOutput,
          use_cache_branch: { type: 'bool', data: Uint8Array.from([past ? 1 : 0]), dims: [1] },
        };
        for (let layer = 0; layer < (model.config.num_decoder_layers as number); layer++) {
          for (const part of ['decoder', 'encoder']) {
            for (const kind of ['key', 'value']) {
              feeds[`past_key_values.${layer}.${part}.${kind}`] = past?.[`present.${layer}.${part}.${kind}`] ?? emptyCache(decoderIds.length, heads, headDim);
            }
          }
        }
        return decoder.run(feeds);
      };

      it('encodes a right-padded batch like each text alone', async () => {
        const tokenizer = requireTokenizer(model);
        const rows = ['summarize: the movie was great and the people were nice', 'a short one'].map((text) => tokenizer.encode(text).ids);
        const width = Math.max(...rows.map((row) => row.length)) + 3;
        const padded = padRows(rows, width, tokenizer.specialIds.pad!);
        const batch = (await encoder.run({ input_ids: int64(padded.ids), attention_mask: int64(padded.mask) })).last_hidden_state;
        const modelSize = model.config.d_model as number;
        expect(batch.dims).toEqual([2, width, modelSize]);
        for (const [row, ids] of rows.entries()) {
          const alone = (await encoder.run({ input_ids: int64([ids]), attention_mask: int64([ids.map(() => 1)]) })).last_hidden_state;
          expect(maxDifference(sliceRow(batch, row, ids.length * modelSize), floats(alone))).toBeLessThan(TOLERANCE);
        }
      });

      it('decodes with the cache (use_cache_branch) exactly as without it, for a padded batch too', async () => {
        const tokenizer = requireTokenizer(model);
        const rows = ['summarize: the movie was great and the people were nice', 'a short one'].map((text) => tokenizer.encode(text).ids);
        const width = Math.max(...rows.map((row) => row.length));
        const padded = padRows(rows, width, tokenizer.specialIds.pad!);
        const encoded = (await encoder.run({ input_ids: int64(padded.ids), attention_mask: int64(padded.mask) })).last_hidden_state;
        const start = model.config.decoder_start_token_id as number;
        const decoderIds = [
          [start, 9, 20, 31],
          [start, 40, 5, 12],
        ];
        const full = await decode(decoderIds, encoded, padded.mask, undefined);
        const vocabSize = model.config.vocab_size as number;
        expect(full.logits.dims).toEqual([2, 4, vocabSize]);
        expect(full['present.0.encoder.key'].dims).toEqual([2, model.config.num_heads, width, model.config.d_kv]);

        let past: Record<string, Tensor> | undefined;
        for (let step = 0; step < decoderIds[0].length; step++) {
          const result = await decode(decoderIds.map((row) => [row[step]]), encoded, padded.mask, past);
          expect(result['present.0.decoder.key'].dims).toEqual([2, model.config.num_heads, step + 1, model.config.d_kv]);
          for (let row = 0; row < 2; row++) {
            const expected = floats(full.logits).subarray((row * 4 + step) * vocabSize, (row * 4 + step + 1) * vocabSize);
            expect(maxDifference(sliceRow(result.logits, row), expected)).toBeLessThan(TOLERANCE);
          }
          past = result;
        }

        // The second row alone, unpadded, must decode like its padded place in the batch.
        const alone = (await encoder.run({ input_ids: int64([rows[1]]), attention_mask: int64([rows[1].map(() => 1)]) })).last_hidden_state;
        const aloneLogits = (await decode([decoderIds[1]], alone, [rows[1].map(() => 1)], undefined)).logits;
        expect(maxDifference(sliceRow(full.logits, 1), floats(aloneLogits))).toBeLessThan(TOLERANCE);
      });
    });
  });
}
