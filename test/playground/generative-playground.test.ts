import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import * as z from 'zod/mini';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generativeClassifyEndpoint } from '../../src/endpoints/generative-classify-endpoint.ts';
import { generativeExtractEndpoint } from '../../src/endpoints/generative-extract-endpoint.ts';
import { createHonnxApp } from '../../src/http/create-app.ts';
import { interfacePages } from '../../src/http/playground/interface-pages.ts';
import { createFunctionHost } from '../../src/serving/function-host.ts';
import { defineFunction } from '../../src/spec/define-function.ts';
import { openSynthesizedChatModel, type SynthesizedChatModel } from '../support/synth-chat-model.ts';
import { findChromiumSkipReason, launchChromium, type HeadlessChromium } from './chromium.ts';

const chromiumSkipReason = findChromiumSkipReason();
if (chromiumSkipReason) console.warn(chromiumSkipReason);

const LABELS = ['billing', 'bug report', 'praise'];

// The playground with functions on a language model (a random-weight Qwen3): their answers are not the encoder
// tasks' shapes everywhere (an extract value is the function's schema; a classify answer with return_confidence).
describe.skipIf(chromiumSkipReason !== undefined)('the playground with generative functions, in headless Chromium', () => {
  let synthesized: SynthesizedChatModel;
  let chromium: HeadlessChromium;
  let server: ServerType;
  let origin: string;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    synthesized = await openSynthesizedChatModel();
    const functions = [
      { name: 'tickets', fn: defineFunction({ task: generativeClassifyEndpoint({ labels: LABELS }), model: 'qwen3-tiny' }) },
      { name: 'contacts', fn: defineFunction({ task: generativeExtractEndpoint, model: 'qwen3-tiny', schema: z.object({ name: z.string().check(z.maxLength(8)), vip: z.boolean() }) }) },
    ];
    const hosted = functions.map(({ name, fn }) => ({ fn, host: createFunctionHost(name, fn.definition, async () => synthesized.bundle) }));
    await Promise.all(hosted.map(({ host }) => host.load()));
    const app = createHonnxApp({ functions: hosted, pages: interfacePages });
    server = await new Promise<ServerType>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    chromium = await launchChromium();
    page = await chromium.context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 120_000);
  afterAll(async () => {
    await chromium?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await synthesized?.remove();
  });

  async function runFunction(name: string, text: string, parameters: object): Promise<void> {
    await page.goto(`${origin}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.click(`nav button[data-function="${name}"]`);
    await expect.poll(() => page.textContent('#function-name')).toBe(name);
    await page.fill('#inputs', text);
    await page.fill('#parameters', JSON.stringify(parameters));
    await page.click('#run');
    await page.waitForFunction(() => !(document.querySelector('#run') as HTMLButtonElement).disabled);
    expect(await page.textContent('#status')).toBe('done');
  }

  it('shows a generative classifier as label bars, with and without return_confidence', async () => {
    for (const parameters of [{ top_k: 0 }, { top_k: 0, return_confidence: true }]) {
      await runFunction('tickets', 'The app crashes on start.', parameters);
      const labels = await page.$$eval('.label-row', (rows) => rows.map((row) => row.getAttribute('data-label')));
      expect([...labels].sort()).toEqual([...LABELS].sort());
    }
    expect(pageErrors).toEqual([]);
  });

  it("shows a generative extract function's value as JSON", async () => {
    await runFunction('contacts', 'Ana is a VIP.', {});
    const shown = JSON.parse((await page.textContent('#result pre'))!) as Record<string, unknown>;
    expect(Object.keys(shown)).toEqual(['name', 'vip']);
    expect(pageErrors).toEqual([]);
  });
});
