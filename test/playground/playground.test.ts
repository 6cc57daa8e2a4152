import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postJson } from '../support/requests.ts';
import { servesShipped } from '../support/function-set.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { discoverTestFunctions } from '../support/test-functions.ts';
import { findChromiumSkipReason } from './chromium.ts';
import { projectRoot, usePlaygroundSuite } from './serve-default-functions.ts';

/** Screenshots go to the gitignored cache, never into the repository. */
const screenshotFolder = join(projectRoot, '.cache/playground');

// Expected answers come from the models' own records in the mirror (sanity.json, README), not from honnx.
const readSharedJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(join(mirrorFolder, path), 'utf8')) as T;
const NER_SENTENCE = 'Angela Merkel met Emmanuel Macron in Paris on Tuesday';

type Rgb = [number, number, number];
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

function parseCssColour(colour: string): Rgb {
  const match = /^rgba?\((\d+), (\d+), (\d+)/.exec(colour);
  if (!match) throw new Error(`not an rgb() colour: ${colour}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** How many pixels of `box` (screenshot coordinates, inset by `inset` px against anti-aliased edges) are `colour`, and how many there are. */
function countPixels(png: PNG, box: Box, colour: Rgb, inset = 2): { matching: number; total: number; notWhite: number } {
  let matching = 0;
  let total = 0;
  let notWhite = 0;
  for (let y = Math.ceil(box.y) + inset; y < Math.floor(box.y + box.height) - inset; y++) {
    for (let x = Math.ceil(box.x) + inset; x < Math.floor(box.x + box.width) - inset; x++) {
      const offset = (y * png.width + x) * 4;
      const pixel = [png.data[offset], png.data[offset + 1], png.data[offset + 2]];
      total += 1;
      if (pixel.every((channel, index) => Math.abs(channel - colour[index]) <= 3)) matching += 1;
      if (pixel.some((channel) => channel < 200)) notWhite += 1;
    }
  }
  return { matching, total, notWhite };
}

// Whatever discovery finds in functions/ (or HONNX_TEST_FUNCTIONS); a shipped function's checks run where it is served as shipped.
const { functions: discovered } = await discoverTestFunctions();
const shipped = (name: Parameters<typeof servesShipped>[1]) => servesShipped(discovered, name);

const chromiumSkipReason = findChromiumSkipReason();
if (chromiumSkipReason) console.warn(chromiumSkipReason);

describe.skipIf(chromiumSkipReason !== undefined)('the playground at GET / and the reference at GET /docs, in headless Chromium', () => {
  const suite = usePlaygroundSuite();
  let page: Page;
  /** Every URL the page asked for: all must be the server's own, since customer boxes may be air-gapped. */
  let requested: string[];
  /** Uncaught errors of the page's own script. */
  let pageErrors: string[];

  beforeEach(async () => {
    page = await suite.chromium.context.newPage();
    requested = [];
    page.on('request', (request) => requested.push(request.url()));
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  afterEach(async () => {
    await page.close();
    expect(pageErrors).toEqual([]);
    expect(requested.filter((url) => !url.startsWith(`${suite.served.origin}/`))).toEqual([]);
  });

  async function openFunction(name: string): Promise<void> {
    await page.goto(`${suite.served.origin}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.click(`nav button[data-function="${name}"]`);
    await expect.poll(() => page.textContent('#function-name')).toBe(name);
  }

  async function run(text: string, parameters: object = {}): Promise<void> {
    await page.fill('#inputs', text);
    await page.fill('#parameters', JSON.stringify(parameters));
    await page.click('#run');
    await page.waitForFunction(() => !(document.querySelector('#run') as HTMLButtonElement).disabled);
  }

  it('lists every function the server runs, with its task', async () => {
    await page.goto(`${suite.served.origin}/`);
    await page.waitForSelector('body[data-ready="true"]');
    const listed = await page.$$eval('nav button', (buttons) => buttons.map((button) => [button.dataset.function, button.querySelector('small')!.textContent]));
    expect(listed).toEqual(discovered.map((fn) => [fn.name, `${fn.task} · /${fn.name}`]));
  });

  it.runIf(shipped('classify'))('classify: label scores as bars, best first, each as long as its score', async () => {
    const sanity = (await readSharedJson<{ sentences: { text: string; node: { label: string; probs: Record<string, number> } }[] }>('sentiment-sst2-mini/sanity.json')).sentences;
    const hate = sanity.find((sentence) => sentence.text === 'I hate this')!;
    await openFunction('classify');
    await run(hate.text);
    expect(await page.textContent('#status')).toBe('done');
    const rows = await page.$$eval('.label-row', (elements) =>
      elements.map((row) => {
        const track = row.querySelector('.bar-track')!.getBoundingClientRect();
        const bar = row.querySelector('.bar')!.getBoundingClientRect();
        return { label: row.querySelector('.label')!.textContent, score: Number(row.getAttribute('data-score')), filled: bar.width / track.width };
      }),
    );
    expect(rows.map((row) => row.label)).toEqual(['NEGATIVE', 'POSITIVE']);
    expect(hate.node.label).toBe('NEGATIVE');
    for (const row of rows) {
      expect(row.score).toBeCloseTo(hate.node.probs[row.label!], 3);
      expect(row.filled).toBeCloseTo(row.score, 2);
    }
  });

  it.runIf(shipped('langid'))('classify: the language function shows its top 3 languages', async () => {
    await openFunction('langid');
    await run('Ich liebe dieses Buch sehr.');
    const labels = await page.$$eval('.label-row', (elements) => elements.map((row) => row.getAttribute('data-label')));
    expect(labels).toHaveLength(3);
    // The model README: "Ich liebe dieses Buch sehr." -> de 0.9991.
    expect(labels[0]).toBe('de');
  });

  it.runIf(shipped('extract'))('extract: entities highlighted in the text, each <mark> wrapping exactly one entity, and visibly coloured', async () => {
    const sanity = (await readSharedJson<{ sentences: { text: string; entities: { type: string; text: string }[] }[] }>('ner-conll03-mini-cased/sanity.json')).sentences;
    const expected = sanity.find((sentence) => sentence.text === NER_SENTENCE)!.entities;
    await openFunction('extract');
    await run(NER_SENTENCE);
    const marks = await page.$$eval('.highlighted-text mark.entity', (elements) => elements.map((mark) => [mark.getAttribute('data-entity'), mark.textContent]));
    expect(marks).toEqual(expected.map((entity) => [entity.type, entity.text]));
    expect(marks.map(([, text]) => text)).toEqual(['Angela Merkel', 'Emmanuel Macron', 'Paris']);
    expect(await page.textContent('.highlighted-text')).toBe(NER_SENTENCE);

    // The screenshot check: the highlight colour covers each entity and is absent from a word outside them.
    const container = page.locator('.highlighted-text');
    await mkdir(screenshotFolder, { recursive: true });
    const screenshotPath = join(screenshotFolder, 'extract-entities.png');
    const png = PNG.sync.read(await container.screenshot({ path: screenshotPath }));
    const origin = (await container.boundingBox())!;
    const relative = (box: Box): Box => ({ x: box.x - origin.x, y: box.y - origin.y, width: box.width, height: box.height });

    const wordBox = await page.evaluate(() => {
      const text = Array.from(document.querySelector('.highlighted-text')!.childNodes).find((node) => node.nodeType === Node.TEXT_NODE && node.textContent!.includes(' met '))!;
      const range = document.createRange();
      const start = text.textContent!.indexOf('met');
      range.setStart(text, start);
      range.setEnd(text, start + 3);
      const { x, y, width, height } = range.getBoundingClientRect();
      return { x, y, width, height };
    });
    const entityBoxes = await page.$$eval('.highlighted-text mark.entity', (elements) =>
      elements.map((mark) => {
        const { x, y, width, height } = mark.getBoundingClientRect();
        return { type: mark.getAttribute('data-entity')!, colour: getComputedStyle(mark).backgroundColor, box: { x, y, width, height } };
      }),
    );
    const background = parseCssColour(await container.evaluate((element) => getComputedStyle(element).backgroundColor));
    const word = relative(wordBox);
    for (const { type, colour, box } of entityBoxes) {
      const highlight = parseCssColour(colour);
      expect(highlight, `${type} highlight must differ from the text's background`).not.toEqual(background);
      const over = countPixels(png, relative(box), highlight);
      expect(over.total).toBeGreaterThan(100);
      // Glyphs cover part of the box; the highlight shows through the rest.
      expect(over.matching / over.total, `${type} highlight in ${screenshotPath}`).toBeGreaterThan(0.5);
      const beside = countPixels(png, word, highlight);
      expect(beside.matching, `${type} highlight over "met" in ${screenshotPath}`).toBe(0);
      // ... while "met" itself is drawn there: the check looks at the word, not at empty space.
      expect(beside.notWhite).toBeGreaterThan(0);
    }
  });

  it.runIf(shipped('extract'))('extract: the text is shown as text, never as markup', async () => {
    await openFunction('extract');
    const text = '<b id="injected">Paris</b> is where <img src=x onerror="document.title=1">Angela Merkel lives';
    await run(text);
    await page.waitForSelector('.highlighted-text');
    expect(await page.$('#injected')).toBeNull();
    expect(await page.$('.highlighted-text img')).toBeNull();
    expect(await page.textContent('.highlighted-text')).toBe(text);
    expect(await page.$$('.highlighted-text mark.entity')).not.toHaveLength(0);
  });

  it.runIf(shipped('summarize'))('summarize: shows the summary the model README records', async () => {
    const raw = await readFile(join(mirrorFolder, 'datasets/bbc-news-summary/BBC News Summary/News Articles/business/026.txt'), 'utf8');
    const article = raw.split('\n').slice(1).join('\n');
    const sanity = (await readSharedJson<{ cases: { summary_k3: string }[] }>('summarize-bbc-extractive/sanity.json')).cases[0];
    await openFunction('summarize');
    await run(article);
    expect(await page.$$eval('.summary', (elements) => elements.map((element) => element.textContent))).toEqual([sanity.summary_k3]);
  });

  it.runIf(shipped('generate'))('generate: tokens are shown as they stream in, and the text ends equal to the non-streamed answer', async () => {
    const sample = (await readSharedJson<{ greedy: { prompt: string; max_new_tokens: number; greedy_text: string }[] }>('tinystories-260k/sanity.json')).greedy[1];
    const parameters = { max_new_tokens: sample.max_new_tokens, do_sample: false };
    const plain = (await (await fetch(`${suite.served.origin}/generate`, postJson({ inputs: sample.prompt, parameters }))).json()) as { generated_text: string }[];
    expect(sample.prompt + plain[0].generated_text).toBe(sample.greedy_text);

    await openFunction('generate');
    expect(await page.isChecked('#stream')).toBe(true);
    // Records the generated text after each DOM change the stream makes, however the events were packed into reads.
    await page.evaluate(() => {
      const states: string[] = [];
      (window as unknown as { generatedStates: string[] }).generatedStates = states;
      let text = '';
      new MutationObserver((records) => {
        for (const record of records) {
          if (!(record.target instanceof Element) || !record.target.classList.contains('generated-text')) continue;
          for (const node of Array.from(record.addedNodes)) {
            text += node.textContent;
            states.push(text);
          }
        }
      }).observe(document.querySelector('#result')!, { childList: true, subtree: true });
    });
    const streamedResponse = page.waitForResponse((response) => response.url().endsWith('/generate'));
    await run(sample.prompt, parameters);
    const response = await streamedResponse;
    expect(JSON.parse(response.request().postData()!)).toEqual({ inputs: sample.prompt, parameters, stream: true });
    expect(response.headers()['content-type']).toMatch(/text\/event-stream/);

    const states = await page.evaluate(() => (window as unknown as { generatedStates: string[] }).generatedStates);
    expect(states).toHaveLength(sample.max_new_tokens);
    for (let index = 1; index < states.length; index++) expect(states[index].startsWith(states[index - 1])).toBe(true);
    expect(new Set(states.map((state) => state.length)).size).toBeGreaterThan(sample.max_new_tokens / 2);
    expect(states.at(-1)).toBe(plain[0].generated_text);
    expect(await page.textContent('.generated-text')).toBe(plain[0].generated_text);
    expect(await page.textContent('.prompt-text')).toBe(sample.prompt);
    expect(await page.textContent('#status')).toBe('done');
  });

  it.runIf(shipped('classify'))("shows the server's error, with its status and code", async () => {
    await openFunction('classify');
    await run('I love this', { top_kk: 2 });
    expect(await page.getAttribute('#status', 'class')).toBe('error');
    expect(await page.textContent('#status')).toMatch(/^400 invalid_parameters: parameters/);
    expect(await page.$$('.label-row')).toHaveLength(0);
  });

  it.runIf(shipped('classify'))('at phone width (390 px): no sideways scrolling, the Run button whole beside a long error, the placeholder whole, no favicon request', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await openFunction('classify');
    await run('I love this', { top_k: 'three', function_to_apply: 'a value no function has', truncation: 'maybe' });
    expect(await page.getAttribute('#status', 'class')).toBe('error');
    const layout = await page.evaluate(() => {
      const box = (selector: string) => document.querySelector(selector)!.getBoundingClientRect();
      const key = document.querySelector('#api-key') as HTMLInputElement;
      // The placeholder's width in the input's own font.
      const probe = document.createElement('span');
      probe.style.cssText = `position:absolute;visibility:hidden;white-space:pre;font:${getComputedStyle(key).font}`;
      probe.textContent = key.placeholder;
      document.body.append(probe);
      const placeholderWidth = probe.getBoundingClientRect().width;
      const keyStyle = getComputedStyle(key);
      return {
        scrollWidth: document.documentElement.scrollWidth,
        run: box('#run'),
        status: box('#status'),
        inputs: box('#inputs'),
        keyInner: key.clientWidth - parseFloat(keyStyle.paddingLeft) - parseFloat(keyStyle.paddingRight),
        placeholderWidth,
      };
    });
    await mkdir(screenshotFolder, { recursive: true });
    await page.screenshot({ path: join(screenshotFolder, 'playground-390.png'), fullPage: true });
    expect(layout.scrollWidth).toBeLessThanOrEqual(390);
    // The button keeps its one line and its width; the error wraps in the room left, or below it.
    expect(layout.run.width).toBeGreaterThanOrEqual(50);
    expect(layout.run.height).toBeLessThan(40);
    expect(layout.status.right).toBeLessThanOrEqual(390);
    expect(layout.inputs.width).toBeGreaterThan(300);
    expect(layout.keyInner).toBeGreaterThanOrEqual(layout.placeholderWidth);
    expect(requested.some((url) => url.endsWith('/favicon.ico'))).toBe(false);
  });

  it.runIf(shipped('classify') && shipped('extract') && shipped('generate'))('/docs: renders every route of openapi.json with its parameters and error statuses', async () => {
    await page.goto(`${suite.served.origin}/docs`);
    await page.waitForSelector('body[data-ready="true"]');
    const operations = await page.$$eval('article.operation', (elements) => elements.map((element) => `${element.getAttribute('data-method')} ${element.getAttribute('data-path')}`));
    for (const { name } of discovered) {
      expect(operations).toContain(`get /${name}`);
      expect(operations).toContain(`post /${name}`);
    }
    const parametersOf = (path: string) =>
      page.$$eval(`article[data-path="${path}"][data-method="post"] tr[data-property]`, (rows) => rows.map((row) => row.getAttribute('data-property')));
    expect(await parametersOf('/classify')).toEqual(expect.arrayContaining(['inputs', 'parameters', 'stream', 'options', 'top_k', 'function_to_apply', 'truncation']));
    expect(await parametersOf('/extract')).toEqual(expect.arrayContaining(['aggregation_strategy', 'ignore_labels', 'stride']));
    expect(await parametersOf('/generate')).toEqual(expect.arrayContaining(['max_new_tokens', 'temperature', 'stop', 'return_full_text']));
    const statuses = await page.$$eval('article[data-path="/classify"][data-method="post"] tr[data-status]', (rows) => rows.map((row) => row.getAttribute('data-status')));
    expect(statuses).toEqual(['200', '400', '413', '415', '429', '500', '503', '504']);
    const enumText = await page.textContent('article[data-path="/extract"][data-method="post"] tr[data-property="aggregation_strategy"]');
    expect(enumText).toContain('"none" | "simple" | "first" | "average" | "max"');
    expect(await page.textContent('article[data-path="/extract"][data-method="post"] pre.example')).toContain(NER_SENTENCE);
    await mkdir(screenshotFolder, { recursive: true });
    await writeFile(join(screenshotFolder, 'docs.png'), await page.screenshot({ fullPage: false }));
  });
});
