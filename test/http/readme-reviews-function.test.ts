import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { createOpenApiDocument } from '../../src/http/openapi/create-openapi-document.ts';
import { discoverFunctions, type NamedFunction } from '../../src/runtime/node/discover-functions.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { loadModelBundle } from '../../src/models/model-bundle.ts';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { mirrorModelFiles } from '../support/shared-models.ts';
import { postJson, sendThrough } from '../support/requests.ts';

const projectRoot = join(import.meta.dirname, '../..');

/** The README's "Writing a function" example, read from the README itself, as a user copies it. */
async function readReadmeExample(): Promise<string> {
  const readme = await readFile(join(projectRoot, 'README.md'), 'utf8');
  const example = /```ts\n(\/\/ functions\/reviews\.ts\n[\s\S]*?)```/.exec(readme);
  if (!example) throw new Error('README.md has no functions/reviews.ts example');
  return example[1];
}

describe("a user adds functions/reviews.ts exactly as the README shows", () => {
  let folder: string;
  let functions: NamedFunction[];

  beforeAll(async () => {
    // Beside src/, as functions/ is, so that the example's '../src/index.ts' import resolves as it does there.
    folder = await mkdtemp(join(projectRoot, '.functions-with-reviews-'));
    await cp(join(projectRoot, 'functions'), folder, { recursive: true });
    await writeFile(join(folder, 'reviews.ts'), await readReadmeExample());
    functions = await discoverFunctions(folder);
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('is discovered beside the defaults and described in the API document', () => {
    expect(functions.map(({ name }) => name)).toContain('reviews');
    const hosts = functions.map(({ name, fn }) => createFunctionHost(name, fn.definition, () => Promise.reject(new Error('not loaded here'))));
    const document = createOpenApiDocument(hosts) as unknown as { paths: Record<string, unknown> };
    for (const { name } of functions) expect(Object.keys(document.paths)).toContain(`/${name}`);
  });

  it('serves /reviews on its model with the limits it set', async () => {
    const reviews = functions.find(({ name }) => name === 'reviews')!;
    const model = loadModelBundle(mirrorModelFiles(reviews.fn.definition.model), createNodeEngine({ threads: 1 }));
    const host = createFunctionHost('reviews', reviews.fn.definition, () => model);
    await host.load();
    const app = createHonnxApp({ functions: [{ fn: reviews.fn, host }] });
    const send = sendThrough(app.fetch);
    const answer = (await (await send('/reviews', postJson({ inputs: ['I love this', 'I hate this'] }))).json()) as { label: string }[][];
    // top_k: null in the example: every label, best first (sentiment-sst2-mini sanity.json).
    expect(answer.map((labels) => labels.map((entry) => entry.label))).toEqual([['POSITIVE', 'NEGATIVE'], ['NEGATIVE', 'POSITIVE']]);
    const tooMany = await send('/reviews', postJson({ inputs: Array.from({ length: 17 }, () => 'ok') }));
    expect(tooMany.status).toBe(413);
    await host.release();
  });
});
