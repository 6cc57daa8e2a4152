import type { AccessPolicy } from '../auth/access-policy.ts';
import type { FunctionAuth } from '../../spec/function-auth.ts';
import { createApiKeySet, parseApiKeys, type ApiKeySet } from '../auth/api-keys.ts';
import { LOG_LEVELS, type LogLevel } from '../logging/logger.ts';

/** The `server` section of honnx.config.json. Keys themselves never go here: only where to read them. */
export interface ServerConfig {
  /** A file of API keys for the whole server, relative to the project root (`HONNX_API_KEYS_FILE` wins). */
  apiKeysFile?: string;
  /** Origins allowed to call from a browser, or "*" (`HONNX_CORS_ORIGINS` wins). */
  corsOrigins?: '*' | string[];
  /** `HONNX_LOG_LEVEL` wins. */
  logLevel?: LogLevel;
  /** Put each request body in its log line: for debugging only (`HONNX_LOG_INPUTS` wins). */
  logInputs?: boolean;
  /** Require the server's API keys for `/`, `/docs` and `/openapi.json` too (`HONNX_PROTECT_DOCS` wins). */
  protectDocs?: boolean;
  /** How long SIGTERM waits for in-flight requests (`HONNX_SHUTDOWN_TIMEOUT`, seconds, wins). */
  shutdownTimeoutSeconds?: number;
}

/** Which browser origins may call the server (`HONNX_CORS_ORIGINS`). */
export interface CorsSettings {
  origins: '*' | readonly string[];
}

/** Auth, CORS, logging and shutdown, resolved from the environment and the config file. */
export interface ServerSettings {
  access: AccessPolicy;
  /** Unset: no CORS headers, so browsers on other origins cannot read answers. */
  cors?: CorsSettings;
  logging: { level: LogLevel; inputs: boolean };
  shutdownTimeoutMs: number;
}

/** A setting that cannot be honoured. The server refuses to start (Node) or to answer (Workers) rather than run open. */
export class ServerSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerSettingsError';
  }
}

export const DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 25;

/** Where `resolveServerSettings` reads from: the environment, the project's settings, the functions' own keys. */
export interface ResolveServerSettingsOptions {
  /** process.env on Node; the bindings on Workers (only string values are read). */
  environment: Readonly<Record<string, unknown>>;
  /** honnx.config.json's `server` section, as read: it is checked here. */
  config?: unknown;
  /** Each function's name and its `auth` option. */
  functions: readonly { name: string; auth?: FunctionAuth }[];
  /** Reads a key file; absent where the runtime has no files (Workers). */
  readKeyFile?: (path: string) => string;
}

type CheckedOptions = Omit<ResolveServerSettingsOptions, 'config'> & { config: ServerConfig };

const readString = (environment: Readonly<Record<string, unknown>>, name: string): string | undefined => {
  const value = environment[name];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
};

function parseSwitch(name: string, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value.trim())) return true;
  if (/^(0|false|no|off)$/i.test(value.trim())) return false;
  throw new ServerSettingsError(`${name} must be true or false (got "${value}")`);
}

function parseOrigins(source: string, origins: '*' | readonly string[]): CorsSettings['origins'] {
  if (origins === '*') return '*';
  for (const origin of origins) {
    // An origin is scheme://host[:port], exactly as browsers send it in the Origin header: no path, no slash.
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new ServerSettingsError(`${source}: "${origin}" is not an origin like https://app.example.com`);
  }
  return origins;
}

function readCors(options: CheckedOptions): CorsSettings | undefined {
  const fromEnvironment = readString(options.environment, 'HONNX_CORS_ORIGINS');
  if (fromEnvironment !== undefined) {
    const list = fromEnvironment.trim() === '*' ? '*' : fromEnvironment.split(/[\s,]+/).filter(Boolean);
    return { origins: parseOrigins('HONNX_CORS_ORIGINS', list) };
  }
  const configured = options.config?.corsOrigins;
  if (configured === undefined || (Array.isArray(configured) && configured.length === 0)) return undefined;
  return { origins: parseOrigins('honnx.config.json server.corsOrigins', configured) };
}

function readKeys(options: CheckedOptions, what: string, sources: { env?: string; file?: string }, required: boolean): ApiKeySet | undefined {
  const keys: string[] = [];
  if (sources.env !== undefined) {
    const value = readString(options.environment, sources.env);
    if (value === undefined && required) throw new ServerSettingsError(`${what} reads its API keys from ${sources.env}, which is not set`);
    if (value !== undefined) {
      const fromEnvironment = parseApiKeys(value);
      if (fromEnvironment.length === 0) throw new ServerSettingsError(`${what}: ${sources.env} is set but holds no key`);
      keys.push(...fromEnvironment);
    }
  }
  if (sources.file !== undefined) {
    if (!options.readKeyFile) throw new ServerSettingsError(`${what} reads its API keys from the file ${sources.file}, but this runtime has no files: use a secret`);
    let text: string;
    try {
      text = options.readKeyFile(sources.file);
    } catch (error) {
      throw new ServerSettingsError(`${what} cannot read its API key file ${sources.file}: ${(error as Error).message}`);
    }
    const fromFile = parseApiKeys(text);
    if (fromFile.length === 0) throw new ServerSettingsError(`${what}: the API key file ${sources.file} holds no key`);
    keys.push(...fromFile);
  }
  if (keys.length === 0) {
    if (required) throw new ServerSettingsError(`${what} asks for API keys but names no key source (keysEnv or keysFile)`);
    return undefined;
  }
  return createApiKeySet(keys);
}

function readLogLevel(options: CheckedOptions): LogLevel {
  const level = readString(options.environment, 'HONNX_LOG_LEVEL')?.trim().toLowerCase() ?? options.config?.logLevel ?? 'info';
  if (!LOG_LEVELS.includes(level as LogLevel)) throw new ServerSettingsError(`HONNX_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`);
  return level as LogLevel;
}

function readShutdownTimeout(options: CheckedOptions): number {
  const fromEnvironment = readString(options.environment, 'HONNX_SHUTDOWN_TIMEOUT');
  const seconds = fromEnvironment !== undefined ? Number(fromEnvironment) : (options.config?.shutdownTimeoutSeconds ?? DEFAULT_SHUTDOWN_TIMEOUT_SECONDS);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new ServerSettingsError(`HONNX_SHUTDOWN_TIMEOUT (or server.shutdownTimeoutSeconds) must be a number of seconds (got "${fromEnvironment ?? seconds}")`);
  }
  return seconds * 1000;
}

const readBoolean = (options: CheckedOptions, name: string, configured: boolean | undefined) => {
  const value = readString(options.environment, name);
  return value !== undefined ? parseSwitch(name, value) : (configured ?? false);
};

const CONFIG_TYPES: Record<keyof ServerConfig, (value: unknown) => boolean> = {
  apiKeysFile: (value) => typeof value === 'string',
  corsOrigins: (value) => value === '*' || (Array.isArray(value) && value.every((origin) => typeof origin === 'string')),
  logLevel: (value) => typeof value === 'string',
  logInputs: (value) => typeof value === 'boolean',
  protectDocs: (value) => typeof value === 'boolean',
  shutdownTimeoutSeconds: (value) => typeof value === 'number',
};

/** The config file is written by hand: a misspelt or mistyped setting is an error, not silently ignored. */
function checkConfig(config: unknown): ServerConfig {
  if (config === undefined) return {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ServerSettingsError('honnx.config.json "server" must be an object');
  for (const [key, value] of Object.entries(config)) {
    const check = CONFIG_TYPES[key as keyof ServerConfig];
    if (!check) throw new ServerSettingsError(`honnx.config.json "server" has an unknown setting "${key}"; known: ${Object.keys(CONFIG_TYPES).join(', ')}`);
    if (!check(value)) throw new ServerSettingsError(`honnx.config.json "server.${key}" has the wrong type`);
  }
  return config as ServerConfig;
}

/**
 * Server settings from the environment (which wins) and honnx.config.json's `server` section. Everything is
 * checked here, at start-up: a key source that is named but empty is an error, never an open server.
 */
export function resolveServerSettings(given: ResolveServerSettingsOptions): ServerSettings {
  const options = { ...given, config: checkConfig(given.config) };
  const server = readKeys(
    options,
    'the server',
    { env: 'HONNX_API_KEYS', file: readString(options.environment, 'HONNX_API_KEYS_FILE') ?? options.config?.apiKeysFile },
    false,
  );
  const functions = new Map<string, ApiKeySet | 'open'>();
  for (const { name, auth } of options.functions) {
    if (auth === undefined) continue;
    if (auth === false) functions.set(name, 'open');
    else functions.set(name, readKeys(options, `function ${name}`, { env: auth.keysEnv, file: auth.keysFile }, true)!);
  }
  return {
    access: { server, functions, protectDocs: readBoolean(options, 'HONNX_PROTECT_DOCS', options.config?.protectDocs) },
    cors: readCors(options),
    logging: { level: readLogLevel(options), inputs: readBoolean(options, 'HONNX_LOG_INPUTS', options.config?.logInputs) },
    shutdownTimeoutMs: readShutdownTimeout(options),
  };
}

/** What a start-up log line may say of the settings: how many keys guard what, never a key. */
export function describeServerSettings({ access, cors, logging, shutdownTimeoutMs }: ServerSettings): Record<string, unknown> {
  return {
    server_api_keys: access.server?.size ?? 0,
    function_auth: Object.fromEntries([...access.functions].map(([name, keys]) => [name, keys === 'open' ? 'open' : `${keys.size} keys`])),
    protect_docs: access.protectDocs,
    cors_origins: cors?.origins ?? [],
    log_level: logging.level,
    log_inputs: logging.inputs,
    shutdown_timeout_ms: shutdownTimeoutMs,
  };
}
