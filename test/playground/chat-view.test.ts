import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readGreedySample } from '../openai/openai-app.ts';
import { servesShipped } from '../support/function-set.ts';
import { discoverTestFunctions } from '../support/test-functions.ts';
import { findChromiumSkipReason } from './chromium.ts';
import { projectRoot, usePlaygroundSuite } from './serve-default-functions.ts';

const screenshotFolder = join(projectRoot, '.cache/playground');
const { functions: discovered } = await discoverTestFunctions();
const chromiumSkipReason = findChromiumSkipReason();
if (chromiumSkipReason) console.warn(chromiumSkipReason);

// The chat view of the playground, at phone width, on the shipped generate function (tinystories-260k, no chat
// template: one user message is the text prompt, so its greedy answer is the published continuation).
describe.skipIf(chromiumSkipReason !== undefined || !servesShipped(discovered, 'generate'))('the playground\'s chat view, in headless Chromium at 390 px', () => {
  const suite = usePlaygroundSuite();
  let page: Page;
  let pageErrors: string[];
  let violations: string[];
  let chatRequests: Record<string, any>[];

  beforeEach(async () => {
    page = await suite.chromium.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    pageErrors = [];
    violations = [];
    chatRequests = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    page.on('request', (request) => {
      if (request.url().endsWith('/v1/chat/completions')) chatRequests.push(JSON.parse(request.postData() ?? '{}') as Record<string, any>);
    });
  });
  afterEach(async () => {
    // Violations are also reported in the page, which records them.
    violations.push(...(await page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? [])));
    await page.close();
    expect(pageErrors).toEqual([]);
    expect(violations).toEqual([]);
  });

  async function openGenerate(): Promise<void> {
    await page.addInitScript(() => {
      const recorded: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = recorded;
      document.addEventListener('securitypolicyviolation', (event) => recorded.push(`${event.violatedDirective} ${event.blockedURI}`));
    });
    await page.goto(`${suite.served.origin}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.click('nav button[data-function="generate"]');
    await page.waitForSelector('#chat:not([hidden])');
  }

  async function send(text: string): Promise<{ text: string; finishReason: string | null }> {
    const before = await page.$$eval('.chat-message.assistant', (items) => items.length);
    await page.fill('#chat-input', text);
    await page.click('#chat-send');
    await page.waitForFunction((count) => {
      const answers = document.querySelectorAll('.chat-message.assistant');
      return answers.length > count && answers[answers.length - 1].getAttribute('data-state') !== 'streaming';
    }, before);
    return page.$eval('.chat-message.assistant:last-child', (item) => ({ text: item.querySelector('.chat-text')!.textContent ?? '', finishReason: item.getAttribute('data-finish-reason') }));
  }

  it('streams the answer through /v1/chat/completions into the message list, keeps the conversation, fits 390 px', async () => {
    const sample = await readGreedySample();
    await openGenerate();
    // The Parameters box, in the generate task's names, becomes the chat request's sampling fields.
    await page.fill('#parameters', JSON.stringify({ max_new_tokens: sample.newTokens, do_sample: false }));
    const first = await send(sample.prompt);
    expect(await page.getAttribute('.chat-message.assistant:last-child', 'data-state')).toBe('done');
    expect(first.text).toBe(sample.continuation);
    expect(first.finishReason).toBe('length');
    expect(chatRequests[0]).toEqual({ model: 'generate', stream: true, max_tokens: sample.newTokens, do_sample: false, messages: [{ role: 'user', content: sample.prompt }] });

    await send('And then?');
    expect(await page.$$eval('#chat-messages li', (items) => items.map((item) => item.getAttribute('data-role')))).toEqual(['user', 'assistant', 'user', 'assistant']);
    // The second request carries the whole conversation, the first answer included.
    expect(chatRequests[1].messages).toEqual([
      { role: 'user', content: sample.prompt },
      { role: 'assistant', content: first.text },
      { role: 'user', content: 'And then?' },
    ]);

    await mkdir(screenshotFolder, { recursive: true });
    await page.screenshot({ path: join(screenshotFolder, 'chat-390.png'), fullPage: true });
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      messages: Array.from(document.querySelectorAll('.chat-message')).map((item) => item.getBoundingClientRect().right),
      send: document.querySelector('#chat-send')!.getBoundingClientRect(),
    }));
    expect(layout.scrollWidth).toBeLessThanOrEqual(390);
    for (const right of layout.messages) expect(right).toBeLessThanOrEqual(390);
    expect(layout.send.right).toBeLessThanOrEqual(390);
    expect(layout.send.height).toBeLessThan(40);

    await page.click('#chat-clear');
    expect(await page.$$('#chat-messages li')).toHaveLength(0);
  });

  it('shows /v1 errors in the chat status, and only for functions that serve chat', async () => {
    await openGenerate();
    // A conversation the route refuses (a tool role) gets OpenAI's error body, shown with its code.
    await page.evaluate(() => {
      (window as unknown as { chat: { messages: unknown[] } }).chat.messages.push({ role: 'tool', content: 'x' });
    });
    const answer = await send('Hi');
    expect(answer.text).toBe('');
    expect(await page.getAttribute('#chat-status', 'class')).toBe('error');
    expect(await page.textContent('#chat-status')).toMatch(/^400 /);
    const other = discovered.find((fn) => fn.task !== 'generate');
    if (other) {
      await page.click(`nav button[data-function="${other.name}"]`);
      expect(await page.isHidden('#chat')).toBe(true);
    }
  });

  it('/docs renders the /v1 routes', async () => {
    await page.goto(`${suite.served.origin}/docs`);
    await page.waitForSelector('body[data-ready="true"]');
    const operations = await page.$$eval('article.operation', (elements) => elements.map((element) => `${element.getAttribute('data-method')} ${element.getAttribute('data-path')}`));
    expect(operations).toEqual(expect.arrayContaining(['post /v1/chat/completions', 'post /v1/completions', 'post /v1/embeddings', 'get /v1/models', 'get /v1/models/{id}', 'get /health', 'get /info']));
    const fields = await page.$$eval('article[data-path="/v1/chat/completions"] tr[data-property]', (rows) => rows.map((row) => row.getAttribute('data-property')));
    expect(fields).toEqual(expect.arrayContaining(['model', 'messages', 'max_tokens', 'stream', 'response_format']));
  });
});
