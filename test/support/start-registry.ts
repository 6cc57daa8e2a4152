import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian's `docker-registry` package: the reference distribution registry (github.com/distribution/distribution).
 * .ci/run installs it and sets HONNX_REQUIRE_REGISTRY=1, under which a missing registry fails these tests; elsewhere
 * `npm test` skips them with one line saying what to install.
 */
export const REGISTRY_BINARY = process.env.HONNX_TEST_REGISTRY ?? '/usr/bin/docker-registry';
const HTPASSWD_BINARY = '/usr/bin/htpasswd';

/** Why the registry tests cannot run here, in one line, or undefined when they can (or must: HONNX_REQUIRE_REGISTRY=1). */
export function findRegistrySkipReason(environment: NodeJS.ProcessEnv = process.env): string | undefined {
  if ((existsSync(REGISTRY_BINARY) && existsSync(HTPASSWD_BINARY)) || environment.HONNX_REQUIRE_REGISTRY === '1') return undefined;
  return `SKIPPED the OCI registry tests: no ${existsSync(REGISTRY_BINARY) ? HTPASSWD_BINARY : REGISTRY_BINARY} (apt-get install -y docker-registry apache2-utils; .ci/run installs them and requires them).`;
}

export function requireRegistry(): void {
  if (!existsSync(REGISTRY_BINARY)) {
    throw new Error(`the registry tests need Debian's docker-registry at ${REGISTRY_BINARY}: apt-get install -y docker-registry apache2-utils (.ci/run does)`);
  }
  if (!existsSync(HTPASSWD_BINARY)) throw new Error(`the registry tests need htpasswd at ${HTPASSWD_BINARY} for the registry's bcrypt password file: apt-get install -y apache2-utils`);
}

export interface TestRegistry {
  /** `127.0.0.1:<port>`, as a reference names it. */
  host: string;
  url: string;
  close(): Promise<void>;
}

export interface RegistryAuthOptions {
  /** Basic auth (htpasswd, bcrypt), or the token flow: a token service on loopback that trusts the same users. */
  kind: 'basic' | 'token';
  users: Record<string, string>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const base64Url = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');

/**
 * A token service as the distribution spec's token flow describes it: Basic credentials in, a JWT out, signed
 * (ES256) with a self-signed certificate the registry is configured to trust, granting what the scope asks.
 */
async function startTokenService(folder: string, users: Record<string, string>, service: string): Promise<{ server: Server; realm: string; bundle: string; issuer: string }> {
  const keyPath = join(folder, 'token.key');
  const certificatePath = join(folder, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=honnx-test-token', '-days', '2', '-keyout', keyPath, '-out', certificatePath], { stdio: 'ignore' });
  const key = createPrivateKey(readFileSync(keyPath));
  const certificate = new X509Certificate(readFileSync(certificatePath));
  const issuer = 'honnx-test-issuer';
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const [scheme, encoded] = (request.headers.authorization ?? '').split(' ');
    const [user, password] = scheme === 'Basic' ? Buffer.from(encoded ?? '', 'base64').toString().split(':') : [];
    if (!user || users[user] !== password) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const access = url.searchParams.getAll('scope').map((scope) => {
      const [type, name, actions] = scope.split(':');
      return { type, name, actions: (actions ?? '').split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'ES256', typ: 'JWT', x5c: [certificate.raw.toString('base64')] };
    const claims = { iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const body = `${base64Url(JSON.stringify(header))}.${base64Url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(body), { key, dsaEncoding: 'ieee-p1363' });
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${body}.${base64Url(signature)}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, realm: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`, bundle: certificatePath, issuer };
}

/** Starts the real registry on a random loopback port, storage in a temporary folder, optionally behind auth. */
export async function startRegistry(auth?: RegistryAuthOptions): Promise<TestRegistry> {
  requireRegistry();
  const folder = await mkdtemp(join(tmpdir(), 'honnx-registry-'));
  const port = await freePort();
  const lines = ['version: 0.1', 'log: { level: error, accesslog: { disabled: true } }', 'storage:', `  filesystem: { rootdirectory: ${join(folder, 'data')} }`, '  delete: { enabled: true }', `http: { addr: "127.0.0.1:${port}" }`];
  let tokenServer: Server | undefined;
  if (auth?.kind === 'basic') {
    const file = join(folder, 'htpasswd');
    writeFileSync(file, Object.entries(auth.users).map(([user, password]) => execFileSync(HTPASSWD_BINARY, ['-Bbn', user, password], { encoding: 'utf8' }).trim()).join('\n') + '\n');
    lines.push('auth:', `  htpasswd: { realm: honnx-test, path: ${file} }`);
  } else if (auth?.kind === 'token') {
    const service = 'honnx-test-registry';
    const token = await startTokenService(folder, auth.users, service);
    tokenServer = token.server;
    lines.push('auth:', '  token:', `    realm: ${token.realm}`, `    service: ${service}`, `    issuer: ${token.issuer}`, `    rootcertbundle: ${token.bundle}`);
  }
  writeFileSync(join(folder, 'config.yml'), `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', join(folder, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${errors}`);
    const ready = await fetch(`${url}/v2/`).then((response) => response.status === 200 || response.status === 401, () => false);
    if (ready) break;
    if (attempt > 100) throw new Error(`docker-registry did not answer on ${url}: ${errors}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await new Promise<void>((resolve) => (tokenServer ? tokenServer.close(() => resolve()) : resolve()));
      await rm(folder, { recursive: true, force: true });
    },
  };
}
