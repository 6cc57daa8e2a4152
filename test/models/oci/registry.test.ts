import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readLockFile } from '../../../src/models/lock/lock-file.ts';
import { listModelVersions } from '../../../src/models/versions/model-versions.ts';
import { mirrorFolder } from '../../support/shared-models.ts';
import { startRegistryProxy, type RegistryProxy } from '../../support/registry-proxy.ts';
import { startRegistry, type TestRegistry, findRegistrySkipReason } from '../../support/start-registry.ts';
import { runModelsCommand } from '../run-models-command.ts';

const registrySkipReason = findRegistrySkipReason();
if (registrySkipReason) console.warn(registrySkipReason);

const MODEL = 'tinystories-260k';
const GRAPH = 'onnx/model.onnx';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const graphDigest = () => `sha256:${sha256(readFileSync(join(mirrorFolder, MODEL, GRAPH)))}`;

const ENVIRONMENT = ['HONNX_MIRROR', 'HONNX_CACHE', 'DOCKER_CONFIG', 'HONNX_REGISTRY_USERNAME', 'HONNX_REGISTRY_PASSWORD', 'HONNX_REGISTRY_TOKEN', 'HONNX_MODEL_PUBLIC_KEY', 'HONNX_SIGNING_KEY', 'PATH'] as const;
const saved = Object.fromEntries(ENVIRONMENT.map((key) => [key, process.env[key]]));

let root: string;
const run = (...args: string[]) => runModelsCommand(root, args);
const lockPath = () => join(root, 'models', 'honnx.lock.json');
const installedGraph = () => join(root, 'cache', MODEL, GRAPH);

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'honnx-oci-'));
  await mkdir(join(root, 'models'));
  process.env.HONNX_MIRROR = mirrorFolder;
  process.env.HONNX_CACHE = join(root, 'cache');
  // Never the machine's own `docker login`: a folder of this test's, empty unless a test writes a config.json there.
  process.env.DOCKER_CONFIG = join(root, 'docker');
  for (const key of ENVIRONMENT.slice(3, -1)) delete process.env[key];
  process.env.PATH = saved.PATH;
});
afterEach(() => rm(root, { recursive: true, force: true }));
afterAll(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** The manifest a registry holds for a reference, read with curl-like plainness (no honnx code), for independent checks. */
async function fetchManifest(registry: TestRegistry, repository: string, reference: string, authorization?: string) {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json', ...(authorization ? { authorization } : {}) },
  });
  return { status: response.status, digest: response.headers.get('docker-content-digest'), body: (await response.json()) as Record<string, any> };
}

describe.skipIf(registrySkipReason !== undefined)('models as OCI artifacts, against the distribution registry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry?.close());

  it('pushes one layer per file whose digests are the lock file sha256s, and pulls it back byte for byte with the manifest digest locked', async () => {
    expect((await run('lock', MODEL)).status).toBe(0);
    const locked = (await readLockFile(lockPath())).models[0];
    const pushed = await run('push', MODEL, `${registry.host}/honnx/tinystories:v1`, '--plain-http');
    expect(pushed.errors).toBe('');
    expect(pushed.status).toBe(0);
    const digest = /digest (sha256:[0-9a-f]{64})/.exec(pushed.output)![1];

    const manifest = await fetchManifest(registry, 'honnx/tinystories', 'v1');
    expect(manifest.digest).toBe(digest);
    expect(manifest.body.artifactType).toBe('application/vnd.honnx.model.v1');
    expect(manifest.body.config).toMatchObject({ mediaType: 'application/vnd.oci.empty.v1+json', size: 2 });
    expect(manifest.body.annotations).toMatchObject({ 'dev.honnx.model.name': MODEL, 'dev.honnx.model.task': 'generate', 'dev.honnx.model.variant': 'fp32' });
    const layers = manifest.body.layers as { digest: string; size: number; annotations: Record<string, string> }[];
    expect(layers.map((layer) => [layer.annotations['org.opencontainers.image.title'], layer.digest, layer.size]).sort()).toEqual(
      locked.files.map((file) => [file.path, `sha256:${file.sha256}`, file.size]).sort(),
    );

    // A fresh box: an empty cache and lock file.
    await rm(lockPath());
    process.env.HONNX_MIRROR = join(root, 'no-mirror');
    const pulled = await run('pull', `oci://${registry.host}/honnx/tinystories:v1`, '--plain-http');
    expect(pulled.errors).toBe('');
    expect(pulled.status).toBe(0);
    expect(readFileSync(installedGraph())).toEqual(readFileSync(join(mirrorFolder, MODEL, GRAPH)));
    const entry = (await readLockFile(lockPath())).models[0];
    expect(entry).toMatchObject({ name: MODEL, variant: 'fp32', source: { type: 'oci', registry: registry.host, repository: 'honnx/tinystories', tag: 'v1', digest } });
    expect(entry.files).toEqual(locked.files);
    expect((await run('verify', MODEL)).status).toBe(0);

    // Pushing the same files again sends no layer.
    const again = await run('push', MODEL, `${registry.host}/honnx/tinystories:v1-again`, '--plain-http');
    expect(again.output).toContain(`0 B sent, ${locked.files.length} layer(s) already there`);
  });

  it('moves a tag to a new version: pulling the moved tag is refused without --update-lock, then gets the new manifest; the old digest still pulls the old one', async () => {
    const version2 = join(root, 'v2', MODEL);
    await cp(join(mirrorFolder, MODEL), version2, { recursive: true });
    const config = JSON.parse(await readFile(join(version2, 'config.json'), 'utf8'));
    await writeFile(join(version2, 'config.json'), JSON.stringify({ ...config, honnx_test_version: 2 }));
    const first = await run('push', MODEL, `${registry.host}/honnx/moving:stable`, '--plain-http');
    expect((await run('pull', `oci://${registry.host}/honnx/moving:stable`, '--plain-http')).status).toBe(0);
    const second = await run('push', version2, `${registry.host}/honnx/moving:stable`, '--plain-http');
    expect(second.status).toBe(0);
    const [digest1, digest2] = [first, second].map((result) => /digest (sha256:[0-9a-f]{64})/.exec(result.output)![1]);
    expect(digest2).not.toBe(digest1);
    // Only the changed file travels: every other layer was already in the repository.
    expect(second.output).toMatch(/pushed\s+config\.json/);
    expect(second.output).not.toMatch(/pushed\s+onnx\/model\.onnx/);
    const installedVersion = () => JSON.parse(readFileSync(join(root, 'cache', MODEL, 'config.json'), 'utf8')).honnx_test_version;

    // The lock pins digest1 under the tag: the moved tag is named, and nothing changes without --update-lock.
    const refused = await run('pull', `oci://${registry.host}/honnx/moving:stable`, '--plain-http');
    expect(refused.status).toBe(1);
    expect(refused.errors).toContain(`pins ${MODEL} (fp32) at ${digest1} (tag stable); ${registry.host}/honnx/moving:stable is now ${digest2}. Nothing was fetched: pass --update-lock`);
    expect((await readLockFile(lockPath())).models[0].source).toMatchObject({ digest: digest1 });
    expect(installedVersion()).toBeUndefined();

    // Not locked (--no-lock), the moved tag goes into the version store beside the locked copy, which stays digest1's.
    const lockText = await readFile(lockPath(), 'utf8');
    const unlocked = await run('pull', `oci://${registry.host}/honnx/moving:stable`, '--plain-http', '--no-lock');
    expect(unlocked.errors).toBe('');
    expect(unlocked.status).toBe(0);
    expect(unlocked.output).toContain('this pull is not locked, so it was kept in the version store');
    expect(installedVersion()).toBeUndefined();
    expect(await readFile(lockPath(), 'utf8')).toBe(lockText);
    expect((await run('verify', MODEL)).status).toBe(0);
    const kept = (await listModelVersions(join(root, 'cache'), MODEL)).find((version) => version.digest === digest2)!;
    expect(JSON.parse(readFileSync(join(kept.folder, 'config.json'), 'utf8')).honnx_test_version).toBe(2);
    expect(kept.tag).toBe('stable');

    const moved = await run('pull', `oci://${registry.host}/honnx/moving:stable`, '--plain-http', '--update-lock');
    expect(moved.errors).toBe('');
    expect(moved.status).toBe(0);
    expect(moved.output).toContain(`replaced ${digest1} in the lock file`);
    let entry = (await readLockFile(lockPath())).models[0];
    expect(entry.source).toMatchObject({ type: 'oci', tag: 'stable', digest: digest2 });
    expect(installedVersion()).toBe(2);

    expect((await run('pull', `oci://${registry.host}/honnx/moving@${digest1}`, '--plain-http')).status).toBe(1);
    expect((await run('pull', `oci://${registry.host}/honnx/moving@${digest1}`, '--plain-http', '--update-lock')).status).toBe(0);
    entry = (await readLockFile(lockPath())).models[0];
    expect(entry.source).toMatchObject({ type: 'oci', digest: digest1 });
    expect(entry.source.type === 'oci' && entry.source.tag).toBeFalsy();
    expect(installedVersion()).toBeUndefined();
    // Both versions are kept beside each other, for a running server to swap between.
    expect((await listModelVersions(join(root, 'cache'), MODEL)).map((version) => version.digest).sort()).toEqual([digest1, digest2].sort());
  });

  it('a box with no name given pulls every locked OCI model at its locked digest, even after the tag moved', async () => {
    const first = await run('push', MODEL, `${registry.host}/honnx/pinned:prod`, '--plain-http');
    const digest1 = /digest (sha256:[0-9a-f]{64})/.exec(first.output)![1];
    expect((await run('pull', `oci://${registry.host}/honnx/pinned:prod`, '--plain-http')).status).toBe(0);
    const version2 = join(root, 'v2', MODEL);
    await cp(join(mirrorFolder, MODEL), version2, { recursive: true });
    await writeFile(join(version2, 'generation_config.json'), '{"max_length": 7}');
    expect((await run('push', version2, `${registry.host}/honnx/pinned:prod`, '--plain-http')).status).toBe(0);
    await rm(join(root, 'cache'), { recursive: true });
    process.env.HONNX_MIRROR = join(root, 'no-mirror');
    process.env.HONNX_REGISTRY_PLAIN_HTTP = '1';
    try {
      const deployed = await run('pull');
      expect(deployed.errors).toBe('');
      expect(deployed.status).toBe(0);
    } finally {
      delete process.env.HONNX_REGISTRY_PLAIN_HTTP;
    }
    expect((await readLockFile(lockPath())).models[0].source).toMatchObject({ digest: digest1 });
    expect(readFileSync(join(root, 'cache', MODEL, 'generation_config.json'), 'utf8')).toBe(readFileSync(join(mirrorFolder, MODEL, 'generation_config.json'), 'utf8'));
  });

  it('signed models: a box with a public key pulls what that key signed, and refuses unsigned, tampered or foreign-signed artifacts before any layer', async () => {
    expect((await run('keygen', join(root, 'fleet'))).status).toBe(0);
    expect((await run('keygen', join(root, 'other'))).status).toBe(0);
    const signed = await run('push', MODEL, `${registry.host}/honnx/signed:v1`, '--plain-http', '--sign-key', join(root, 'fleet.key'));
    expect(signed.errors).toBe('');
    expect(signed.status).toBe(0);
    const digest = /digest (sha256:[0-9a-f]{64})/.exec(signed.output)![1];
    expect(signed.output).toContain(`honnx/signed:${digest.replace(':', '-')}.sig`);
    expect((await run('push', MODEL, `${registry.host}/honnx/unsigned:v1`, '--plain-http')).status).toBe(0);

    const unsigned = await run('pull', `oci://${registry.host}/honnx/unsigned:v1`, '--plain-http', '--public-key', join(root, 'fleet.pub'));
    expect(unsigned.status).toBe(1);
    expect(unsigned.errors).toMatch(/is not signed, and this box requires models signed by key [0-9a-f]{16}; refused/);
    const foreign = await run('pull', `oci://${registry.host}/honnx/signed:v1`, '--plain-http', '--public-key', join(root, 'other.pub'));
    expect(foreign.status).toBe(1);
    expect(foreign.errors).toContain('its signature does not verify with key');
    expect(existsSync(join(root, 'cache', MODEL))).toBe(false);

    process.env.HONNX_MODEL_PUBLIC_KEY = join(root, 'fleet.pub');
    const trusted = await run('pull', `oci://${registry.host}/honnx/signed:v1`, '--plain-http');
    expect(trusted.errors).toBe('');
    expect(trusted.status).toBe(0);
    const entry = (await readLockFile(lockPath())).models[0];
    expect(entry.source).toMatchObject({ type: 'oci', digest, signature: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/) });
  });

  describe('through a proxy that cuts or alters what the registry sends', () => {
    let proxy: RegistryProxy;
    beforeAll(async () => {
      proxy = await startRegistryProxy(registry.url);
    });
    afterAll(() => proxy?.close());
    beforeEach(async () => {
      proxy.intercept = undefined;
      proxy.requests.length = 0;
      expect((await run('push', MODEL, `${registry.host}/honnx/proxied:v1`, '--plain-http')).status).toBe(0);
    });

    it('resumes a layer cut mid-way with a Range request, and installs exactly the right bytes', async () => {
      let cuts = 0;
      proxy.intercept = (request) => (request.url?.endsWith(graphDigest()) && !request.headers.range && cuts++ === 0 ? { cutAfter: 300_000 } : undefined);
      const pulled = await run('pull', `oci://${proxy.host}/honnx/proxied:v1`, '--plain-http');
      expect(pulled.errors).toBe('');
      expect(pulled.status).toBe(0);
      const graphRequests = proxy.requests.filter((request) => request.path.endsWith(graphDigest()));
      expect(graphRequests[0]).toMatchObject({ status: 200, range: undefined });
      expect(graphRequests.at(-1)).toMatchObject({ status: 206 });
      expect(Number(/^bytes=(\d+)-$/.exec(graphRequests.at(-1)!.range ?? '')?.[1])).toBeGreaterThan(0);
      expect(sha256(readFileSync(installedGraph()))).toBe(graphDigest().slice(7));
    });

    it('refuses a layer whose bytes do not match its digest, and installs nothing', async () => {
      proxy.intercept = (request) =>
        request.url?.endsWith(graphDigest()) ? { replace: (body) => Buffer.concat([body.subarray(0, 1000), Buffer.from([body[1000] ^ 0xff]), body.subarray(1001)]) } : undefined;
      const pulled = await run('pull', `oci://${proxy.host}/honnx/proxied:v1`, '--plain-http', '--retries', '0');
      expect(pulled.status).toBe(1);
      expect(pulled.errors).toContain(`${GRAPH} from oci://${proxy.host}/honnx/proxied is corrupt: its sha256 is`);
      expect(existsSync(join(root, 'cache', MODEL))).toBe(false);
      expect(existsSync(lockPath()) ? (await readLockFile(lockPath())).models : []).toEqual([]);
    });

    it('refuses a manifest whose bytes do not match the digest asked for or the one the registry announced', async () => {
      const digest = (await fetchManifest(registry, 'honnx/proxied', 'v1')).digest!;
      const tamper = (body: Buffer) => Buffer.from(body.toString().replace('"dev.honnx.model.variant":"fp32"', '"dev.honnx.model.variant":"int8"'));
      proxy.intercept = (request) => (request.url?.includes('/manifests/') ? { replace: tamper } : undefined);
      const byDigest = await run('pull', `oci://${proxy.host}/honnx/proxied@${digest}`, '--plain-http');
      expect(byDigest.status).toBe(1);
      expect(byDigest.errors).toContain('not the digest asked for; refused');
      const byTag = await run('pull', `oci://${proxy.host}/honnx/proxied:v1`, '--plain-http');
      expect(byTag.status).toBe(1);
      expect(byTag.errors).toContain(`the registry says its digest is ${digest}`);
      expect(existsSync(join(root, 'cache', MODEL))).toBe(false);
    });

    it('refuses a tampered signature', async () => {
      expect((await run('keygen', join(root, 'fleet'))).status).toBe(0);
      expect((await run('push', MODEL, `${registry.host}/honnx/proxied:v1`, '--plain-http', '--sign-key', join(root, 'fleet.key'))).status).toBe(0);
      // Flip one character of the signature inside the .sig manifest, as a compromised mirror would.
      const flip = (body: Buffer) => Buffer.from(body.toString().replace(/("dev\.honnx\.signature\.ed25519":")(.)/, (_, head: string, first: string) => head + (first === 'A' ? 'B' : 'A')));
      proxy.intercept = (request) => (request.url?.endsWith('.sig') ? { replace: flip, dropHeaders: ['docker-content-digest'] } : undefined);
      const pulled = await run('pull', `oci://${proxy.host}/honnx/proxied:v1`, '--plain-http', '--public-key', join(root, 'fleet.pub'));
      expect(pulled.status).toBe(1);
      expect(pulled.errors).toContain('its signature does not verify with key');
      expect(proxy.requests.some((request) => request.path.includes('/blobs/'))).toBe(false);
    });

    it('refuses a manifest with a file name that leaves the model folder, or a malformed digest, before fetching anything', async () => {
      for (const [from, to, expected] of [
        ['"org.opencontainers.image.title":"config.json"', '"org.opencontainers.image.title":"../../escaped.json"', 'file name "../../escaped.json"'],
        ['"org.opencontainers.image.title":"config.json"', '"org.opencontainers.image.title":"/etc/passwd"', 'file name "/etc/passwd"'],
        [`"digest":"${graphDigest()}"`, `"digest":"${graphDigest().toUpperCase().replace('SHA256', 'sha256')}"`, 'only sha256:<64 lower-case hex digits> is accepted'],
      ]) {
        // Without a Docker-Content-Digest to compare, as a registry behind a rewriting cache would answer.
        proxy.intercept = (request) =>
          request.url?.includes('/manifests/') ? { replace: (body) => Buffer.from(body.toString().replace(from, to)), dropHeaders: ['docker-content-digest'] } : undefined;
        proxy.requests.length = 0;
        const pulled = await run('pull', `oci://${proxy.host}/honnx/proxied:v1`, '--plain-http');
        expect(pulled.status).toBe(1);
        expect(pulled.errors).toContain(`the manifest of ${proxy.host}/honnx/proxied:v1 is not a honnx model`);
        expect(pulled.errors).toContain(expected);
        expect(proxy.requests.some((request) => request.path.includes('/blobs/'))).toBe(false);
      }
      expect(existsSync(join(root, 'escaped.json'))).toBe(false);
    });
  });
});

describe.skipIf(registrySkipReason !== undefined)('registry authentication', () => {
  it('basic auth: 401 without credentials, refused with wrong ones, works with them', async () => {
    const registry = await startRegistry({ kind: 'basic', users: { fleet: 'correct horse' } });
    try {
      const reference = `${registry.host}/honnx/private:v1`;
      const anonymous = await run('push', MODEL, reference, '--plain-http');
      expect(anonymous.status).toBe(1);
      expect(anonymous.errors).toContain('requires a user name and password (401, Basic auth): set HONNX_REGISTRY_USERNAME');
      process.env.HONNX_REGISTRY_USERNAME = 'fleet';
      process.env.HONNX_REGISTRY_PASSWORD = 'wrong';
      const wrong = await run('push', MODEL, reference, '--plain-http');
      expect(wrong.status).toBe(1);
      expect(wrong.errors).toContain('refused the credentials');
      process.env.HONNX_REGISTRY_PASSWORD = 'correct horse';
      expect((await run('push', MODEL, reference, '--plain-http')).status).toBe(0);
      expect((await fetch(`${registry.url}/v2/honnx/private/manifests/v1`)).status).toBe(401);
      expect((await run('pull', `oci://${reference}`, '--plain-http')).status).toBe(0);
      delete process.env.HONNX_REGISTRY_USERNAME;
      await rm(join(root, 'cache'), { recursive: true });
      const pulledAnonymously = await run('pull', `oci://${reference}`, '--plain-http');
      expect(pulledAnonymously.status).toBe(1);
      expect(pulledAnonymously.errors).toContain('401');
    } finally {
      await registry.close();
    }
  });

  it('token auth: the registry sends clients to a token service, which takes the credentials and grants a scoped token', async () => {
    const registry = await startRegistry({ kind: 'token', users: { fleet: 's3cret' } });
    try {
      const reference = `${registry.host}/honnx/tokened:v1`;
      const anonymous = await run('push', MODEL, reference, '--plain-http');
      expect(anonymous.status).toBe(1);
      expect(anonymous.errors).toContain('requires credentials (401)');
      process.env.HONNX_REGISTRY_USERNAME = 'fleet';
      process.env.HONNX_REGISTRY_PASSWORD = 's3cret';
      const pushed = await run('push', MODEL, reference, '--plain-http');
      expect(pushed.errors).toBe('');
      expect(pushed.status).toBe(0);
      const pulled = await run('pull', `oci://${reference}`, '--plain-http');
      expect(pulled.errors).toBe('');
      expect(pulled.status).toBe(0);
      expect(sha256(readFileSync(installedGraph()))).toBe(graphDigest().slice(7));
    } finally {
      await registry.close();
    }
  });

  it("reads credentials from Docker's config.json (DOCKER_CONFIG): auths with base64 auth, a credential helper, and says an identity token is unsupported", async () => {
    const registry = await startRegistry({ kind: 'basic', users: { fleet: 'docker horse' } });
    const dockerConfig = join(root, 'docker', 'config.json');
    const writeDockerConfig = async (config: unknown) => {
      await mkdir(join(root, 'docker'), { recursive: true });
      await writeFile(dockerConfig, JSON.stringify(config));
    };
    const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');
    try {
      const reference = `${registry.host}/honnx/docker:v1`;
      // As `docker login 127.0.0.1:port` writes it: the key may carry a scheme; another registry's entry is ignored.
      await writeDockerConfig({ auths: { 'other.example': { auth: auth('fleet', 'docker horse') }, [`http://${registry.host}`]: { auth: auth('fleet', 'wrong') } } });
      const wrong = await run('push', MODEL, reference, '--plain-http');
      expect(wrong.status).toBe(1);
      expect(wrong.errors).toContain(`refused the credentials`);
      expect(wrong.errors).toContain(`${dockerConfig} (auths "http://${registry.host}")`);
      await writeDockerConfig({ auths: { [registry.host]: { auth: auth('fleet', 'docker horse') } } });
      const pushed = await run('push', MODEL, reference, '--plain-http');
      expect(pushed.errors).toBe('');
      expect(pushed.status).toBe(0);
      expect((await fetch(`${registry.url}/v2/honnx/docker/manifests/v1`)).status).toBe(401);
      expect((await run('pull', `oci://${reference}`, '--plain-http')).status).toBe(0);
      // The environment wins over the file.
      process.env.HONNX_REGISTRY_USERNAME = 'fleet';
      process.env.HONNX_REGISTRY_PASSWORD = 'not it';
      expect((await run('pull', `oci://${reference}`, '--plain-http', '--update-lock')).errors).toContain('HONNX_REGISTRY_USERNAME / HONNX_REGISTRY_PASSWORD');
      delete process.env.HONNX_REGISTRY_USERNAME;
      delete process.env.HONNX_REGISTRY_PASSWORD;

      // A credential helper, as docker runs one: `docker-credential-<name> get`, the registry on stdin, JSON out.
      const bin = join(root, 'bin');
      await mkdir(bin, { recursive: true });
      const asked = join(root, 'helper-asked');
      await writeFile(
        join(bin, 'docker-credential-honnxtest'),
        `#!/bin/sh\n[ "$1" = get ] || exit 2\ncat > ${asked}\necho '{"ServerURL":"${registry.host}","Username":"fleet","Secret":"docker horse"}'\n`,
        { mode: 0o755 },
      );
      process.env.PATH = `${bin}:${saved.PATH}`;
      await writeDockerConfig({ credHelpers: { [registry.host]: 'honnxtest' }, auths: { [registry.host]: { auth: auth('fleet', 'wrong') } } });
      await rm(join(root, 'cache'), { recursive: true });
      const helped = await run('pull', `oci://${reference}`, '--plain-http');
      expect(helped.errors).toBe('');
      expect(helped.status).toBe(0);
      expect(readFileSync(asked, 'utf8')).toBe(registry.host);
      await writeDockerConfig({ credsStore: 'missing-helper' });
      expect((await run('pull', `oci://${reference}`, '--plain-http')).errors).toContain('the credential helper docker-credential-missing-helper that');

      await writeDockerConfig({ auths: { [registry.host]: { identitytoken: 'refresh-token' } } });
      const identity = await run('pull', `oci://${reference}`, '--plain-http');
      expect(identity.status).toBe(1);
      expect(identity.errors).toContain('holds an identity token');
      expect(identity.errors).toContain('honnx does not exchange');
    } finally {
      await registry.close();
    }
  });

  it('says to pass --plain-http when a loopback registry speaks plain HTTP', async () => {
    const registry = await startRegistry();
    try {
      const pulled = await run('pull', `oci://${registry.host}/honnx/none:v1`, '--timeout', '5');
      expect(pulled.status).toBe(1);
      expect(pulled.errors).toContain('pass --plain-http');
    } finally {
      await registry.close();
    }
  });
});
