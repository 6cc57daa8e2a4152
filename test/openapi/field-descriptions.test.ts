import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOpenApiDocument } from '../../src/http/openapi/create-openapi-document.ts';
import { discoverFunctions } from '../../src/runtime/node/discover-functions.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';

const projectRoot = join(import.meta.dirname, '../..');

/** Every `properties` entry of a JSON value, with where it is. */
function listProperties(value: unknown, where: string, found: [string, Record<string, unknown>][] = []): [string, Record<string, unknown>][] {
  if (Array.isArray(value)) value.forEach((item, index) => listProperties(item, `${where}[${index}]`, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'properties' && child && typeof child === 'object') {
        for (const [name, property] of Object.entries(child)) found.push([`${where}.${name}`, property as Record<string, unknown>]);
      }
      listProperties(child, `${where}.${key}`, found);
    }
  }
  return found;
}

describe('the API reference describes what it lists', async () => {
  // The functions a user has (functions/*.ts, whatever it holds); no model is loaded to describe them.
  const functions = await discoverFunctions(join(projectRoot, 'functions'));
  const hosts = functions.map(({ name, fn }) => createFunctionHost(name, fn.definition, () => Promise.reject(new Error('not loaded in this test'))));
  const document = createOpenApiDocument(hosts) as unknown as { info: { title: string; version: string }; paths: Record<string, unknown> };

  it('every property of every request, answer and probe has a description, the /v1 and TGI routes included', () => {
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/models', '/v1/models/{id}', '/health', '/info']));
    const properties = listProperties(document, 'document');
    expect(properties.length).toBeGreaterThan(50);
    const undescribed = properties.filter(([, property]) => typeof property.description !== 'string' || property.description.trim() === '').map(([where]) => where);
    expect(undescribed).toEqual([]);
  });

  it('is titled "honnx API" at the version of honnx serving it', () => {
    const { version } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
    expect(document.info).toMatchObject({ title: 'honnx API', version });
  });
});
