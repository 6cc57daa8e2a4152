import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HubError } from '../hub/hub-errors.ts';
import type { RegistryCredentials } from './registry-auth.ts';

/** The parts of Docker's `config.json` that hold registry credentials. */
interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

// Docker Hub is written several ways in config files; `docker login` stores it under its v1 index URL.
const DOCKER_HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const HELPER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HELPER_TIMEOUT_MS = 10_000;

/** `https://ghcr.io/v1/` → `ghcr.io`, and every Docker Hub spelling → `docker.io`, so config keys match a reference's registry. */
function normalizeRegistry(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  return DOCKER_HUB_NAMES.has(host) ? 'docker.io' : host;
}

/** Where Docker keeps its config: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(environment: NodeJS.ProcessEnv = process.env): string {
  return join(environment.DOCKER_CONFIG || join(environment.HOME || homedir(), '.docker'), 'config.json');
}

function readDockerConfig(path: string): DockerConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HubError('unauthorized', `${path} cannot be read: ${(error as Error).message}`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as DockerConfig) : undefined;
  } catch (error) {
    throw new HubError('unauthorized', `${path} is not JSON (${(error as Error).message}); fix it, or point DOCKER_CONFIG elsewhere`);
  }
}

const unsupportedIdentityToken = (registry: string, where: string) =>
  new HubError(
    'unauthorized',
    `${where} holds an identity token for ${registry} (an OAuth refresh token from docker login), which honnx does not exchange; ` +
      'set HONNX_REGISTRY_TOKEN to an access token, or HONNX_REGISTRY_USERNAME and HONNX_REGISTRY_PASSWORD',
  );

/**
 * Asks a Docker credential helper (`docker-credential-<name> get`, the registry on stdin, `{"Username", "Secret"}`
 * out), as docker does. Undefined when the helper holds nothing for the registry.
 */
function askCredentialHelper(helper: string, registry: string, configPath: string, environment: NodeJS.ProcessEnv): RegistryCredentials | undefined {
  if (!HELPER_NAME_PATTERN.test(helper)) throw new HubError('unauthorized', `${configPath} names a credential helper "${helper}" that is not a plain name`);
  const program = `docker-credential-${helper}`;
  let output: string;
  try {
    output = execFileSync(program, ['get'], { input: registry, encoding: 'utf8', timeout: HELPER_TIMEOUT_MS, env: environment, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    // Docker's helpers answer a registry they hold nothing for with this message and exit status 1.
    if (`${failure.stdout ?? ''}${failure.stderr ?? ''}`.includes('credentials not found')) return undefined;
    const why = failure.code === 'ENOENT' ? 'is not on PATH' : `failed (${(failure.stderr ?? failure.message).trim().slice(0, 200)})`;
    throw new HubError('unauthorized', `the credential helper ${program} that ${configPath} names for ${registry} ${why}`);
  }
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(output) as typeof answer;
  } catch {
    throw new HubError('unauthorized', `the credential helper ${program} answered something other than JSON for ${registry}`);
  }
  if (typeof answer.Username !== 'string' || typeof answer.Secret !== 'string') throw new HubError('unauthorized', `the credential helper ${program} sent no Username and Secret for ${registry}`);
  if (answer.Username === '<token>') throw unsupportedIdentityToken(registry, program);
  return { username: answer.Username, password: answer.Secret, from: program };
}

/**
 * The credentials Docker would use for `registry`, from its config file: a credential helper for that registry
 * (`credHelpers`), else the default store (`credsStore`), else `auths` (base64 `user:password` in `auth`, or
 * `username` / `password`, or a `registrytoken`). Identity tokens (OAuth refresh tokens) are not supported and
 * are refused with a message. Undefined when the config has nothing for the registry, or there is no config.
 */
export function readDockerCredentials(registry: string, environment: NodeJS.ProcessEnv = process.env): RegistryCredentials | undefined {
  const path = dockerConfigPath(environment);
  const config = readDockerConfig(path);
  if (!config) return undefined;
  const wanted = normalizeRegistry(registry);
  const helperKey = Object.keys(config.credHelpers ?? {}).find((key) => normalizeRegistry(key) === wanted);
  const helper = helperKey ? config.credHelpers![helperKey] : config.credsStore;
  if (typeof helper === 'string' && helper !== '') {
    const fromHelper = askCredentialHelper(helper, registry, path, environment);
    if (fromHelper) return fromHelper;
  }
  const authKey = Object.keys(config.auths ?? {}).find((key) => normalizeRegistry(key) === wanted);
  const entry = authKey ? config.auths![authKey] : undefined;
  if (!entry) return undefined;
  const from = `${path} (auths "${authKey}")`;
  if (entry.registrytoken) return { token: entry.registrytoken, from };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new HubError('unauthorized', `${from}: "auth" is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), from };
  }
  if (entry.username) return { username: entry.username, password: entry.password ?? '', from };
  if (entry.identitytoken) throw unsupportedIdentityToken(registry, from);
  return undefined;
}
