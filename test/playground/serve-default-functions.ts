import { afterAll, beforeAll } from 'vitest';
import { launchChromium, type HeadlessChromium } from './chromium.ts';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createNodeEngine } from '../../src/engine/onnxruntime-node.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import type { FunctionHost } from '../../src/serving/function-host.ts';
import { interfacePages } from '../../src/http/playground/interface-pages.ts';
import { readModelSearchPaths } from '../../src/models/resolve-model.ts';
import { createNodeApp } from '../../src/runtime/node/create-node-app.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { discoverTestFunctions } from '../support/test-functions.ts';

export const projectRoot = join(import.meta.dirname, '../..');

export interface ServedFunctions {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  origin: string;
  hosts: readonly FunctionHost[];
  stop(): Promise<void>;
}

/**
 * The discovered functions (functions/*.ts, or the folder HONNX_TEST_FUNCTIONS names) on the mirror's models, loaded as `npm start` loads them, served with the
 * API reference and the playground by a real Node server on a loopback port.
 */
export async function serveDefaultFunctions(): Promise<ServedFunctions> {
  const functions = (await discoverTestFunctions()).named;
  const searchPaths = readModelSearchPaths(projectRoot, { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache') });
  const { hosts, ready } = createNodeApp({ functions, engine: createNodeEngine({ threads: 1 }), searchPaths });
  await ready();
  const hostOf = (name: string) => hosts.find((host) => host.name === name)!;
  const app = createHonnxApp({ functions: functions.map(({ name, fn }) => ({ fn, host: hostOf(name) })), pages: interfacePages });
  const server = await new Promise<ServerType>((resolve) => {
    const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    hosts,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A suite's browser and server, started once before its tests and closed after them (set in beforeAll). */
export interface PlaygroundSuite {
  readonly chromium: HeadlessChromium;
  readonly served: ServedFunctions;
}

/** Registers the suite's beforeAll/afterAll: one headless Chromium and one server of the default functions. */
export function usePlaygroundSuite(): PlaygroundSuite {
  const suite = {} as { chromium: HeadlessChromium; served: ServedFunctions };
  beforeAll(async () => {
    suite.chromium = await launchChromium();
    suite.served = await serveDefaultFunctions();
  });
  afterAll(async () => {
    await suite.chromium?.close();
    await suite.served?.stop();
  });
  return suite;
}
