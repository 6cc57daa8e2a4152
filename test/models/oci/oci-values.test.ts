import { describe, expect, it } from 'vitest';
import { HubError } from '../../../src/models/hub/hub-errors.ts';
import { isSafeRelativePath } from '../../../src/models/oci/model-manifest.ts';
import { parseOciReference } from '../../../src/models/oci/oci-reference.ts';
import { parseAuthChallenge } from '../../../src/models/oci/registry-auth.ts';

const digest = `sha256:${'ab'.repeat(32)}`;

describe('OCI references', () => {
  it('reads registry, repository, tag and digest as oras writes them', () => {
    expect(parseOciReference('oci://127.0.0.1:5000/models/sentiment:v2')).toEqual({ registry: '127.0.0.1:5000', repository: 'models/sentiment', tag: 'v2', digest: undefined });
    expect(parseOciReference('ghcr.io/acme/fleet/ner')).toMatchObject({ registry: 'ghcr.io', repository: 'acme/fleet/ner', tag: 'latest' });
    expect(parseOciReference(`oci://localhost:5000/m@${digest}`)).toEqual({ registry: 'localhost:5000', repository: 'm', tag: undefined, digest });
    expect(parseOciReference(`r.example/m:v1@${digest}`)).toMatchObject({ tag: 'v1', digest });
  });

  it('refuses what is not a reference, saying what a reference looks like', () => {
    for (const text of ['oci://sentiment', 'oci://host/Upper:v1', 'oci://host/m:bad tag', 'oci://host/m@sha256:123', `oci://host/m@sha512:${'a'.repeat(128)}`, 'oci://host/../m:v1']) {
      expect(() => parseOciReference(text), text).toThrow(HubError);
    }
    expect(() => parseOciReference('oci://sentiment')).toThrow(/registry\/repository:tag/);
  });
});

describe('file names from a registry', () => {
  it('accepts relative paths inside a model folder and nothing that could leave it', () => {
    for (const path of ['config.json', 'onnx/model_int8.onnx', 'onnx/model.onnx_data']) expect(isSafeRelativePath(path), path).toBe(true);
    for (const path of ['', '/etc/passwd', '../x', 'onnx/../../x', 'onnx//model.onnx', './config.json', 'C:\\x', 'a\\b', 'a\nb', 'c:x', 42, null]) {
      expect(isSafeRelativePath(path), String(path)).toBe(false);
    }
  });
});

describe('registry auth challenges', () => {
  it('reads the Bearer token flow and Basic challenges', () => {
    expect(parseAuthChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"')).toEqual({
      scheme: 'bearer',
      parameters: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' },
    });
    expect(parseAuthChallenge('Basic realm="honnx"')).toEqual({ scheme: 'basic', parameters: { realm: 'honnx' } });
    expect(parseAuthChallenge('Negotiate abc')).toBeUndefined();
  });
});
