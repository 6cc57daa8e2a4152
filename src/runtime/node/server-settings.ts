import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveServerSettings, type ServerSettings } from '../../http/settings/server-settings.ts';
import type { NamedFunction } from './discover-functions.ts';

/**
 * Auth, CORS, logging and shutdown settings of a Node server: the environment first, then honnx.config.json's
 * `server` section; key files are read now, relative to the project root. Throws ServerSettingsError.
 */
export function readNodeServerSettings(
  projectRoot: string,
  functions: readonly NamedFunction[],
  config: unknown,
  environment: NodeJS.ProcessEnv = process.env,
): ServerSettings {
  return resolveServerSettings({
    environment,
    config,
    functions: functions.map(({ name, fn }) => ({ name, auth: fn.definition.auth })),
    readKeyFile: (path) => readFileSync(resolve(projectRoot, path), 'utf8'),
  });
}
