import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium package; Playwright's own browser downloads are not used (the machines are offline). */
export const CHROMIUM_PATH = process.env.HONNX_CHROMIUM ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface HeadlessChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

const INSTALL_CHROMIUM = 'apt-get install -y chromium fonts-dejavu-core, or set HONNX_CHROMIUM to a Chromium binary';

/**
 * Why the browser tests cannot run here, in one line, or undefined when they can. `npm test` on a machine without
 * Chromium skips them with this line; where HONNX_REQUIRE_CHROMIUM=1 (.ci/run sets it) a missing Chromium fails them.
 */
export function findChromiumSkipReason(environment: NodeJS.ProcessEnv = process.env): string | undefined {
  if (existsSync(CHROMIUM_PATH) || environment.HONNX_REQUIRE_CHROMIUM === '1') return undefined;
  return `SKIPPED the playground's browser tests: no Chromium at ${CHROMIUM_PATH} (${INSTALL_CHROMIUM}; .ci/run installs it and requires it).`;
}

/** Headless Chromium with a fresh profile, one CSS pixel per screenshot pixel. Fails when Chromium is missing. */
export async function launchChromium(): Promise<HeadlessChromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM_PATH}; the playground's browser tests need it (${INSTALL_CHROMIUM}).`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'honnx-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 800 },
    deviceScaleFactor: 1,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
