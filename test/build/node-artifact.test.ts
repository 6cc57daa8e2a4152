import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { appendFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildNode, NODE_WORKER_ENTRY } from '../../src/build/build-node.ts';
import { listFunctionSources } from '../../src/build/function-sources.ts';
import { listShippedModel } from '../../src/build/model-files-to-ship.ts';
import { readErrorBody } from '../support/requests.ts';
import { mirrorFolder } from '../support/shared-models.ts';
import { startNodeArtifact, type RunningArtifact } from './artifact-processes.ts';

const projectRoot = join(import.meta.dirname, '../..');

describe('a node artifact built with its model included', () => {
  it('serves from its own models/ folder with no mirror or cache, and refuses a model that differs from the build', async () => {
    const [classify] = (await listFunctionSources(join(projectRoot, 'functions'))).filter((fn) => fn.name === 'classify');
    const model = await listShippedModel('sentiment-sst2-mini', join(mirrorFolder, 'sentiment-sst2-mini'));
    const outDir = join(projectRoot, '.cache/build-test-node/classify');
    await buildNode({ projectRoot, outDir, fn: { ...classify, model }, includeModel: true });
    // No mirror at all: neither the environment nor a honnx.config.json names one.
    const isolated = { HONNX_MIRROR: '', HONNX_CACHE: join(projectRoot, '.cache/empty-cache') };

    const node = await startNodeArtifact(outDir, { env: isolated });
    try {
      const info = (await (await fetch(`${node.url}/classify`)).json()) as { model: { location: string } };
      // A folder on the server's disk is not shown (issue 16): the model's name says which it is.
      expect(info.model.location).toBeUndefined();
      const answer = (await (await fetch(`${node.url}/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs":"I love this"}' })).json()) as {
        label: string;
        score: number;
      }[][];
      // sentiment-sst2-mini sanity.json: "I love this" → POSITIVE 0.99422.
      expect(answer[0][0].label).toBe('POSITIVE');
      expect(answer[0][0].score).toBeCloseTo(0.9942, 3);
    } finally {
      await node.stop();
    }

    const config = join(outDir, 'models/sentiment-sst2-mini/config.json');
    await chmod(config, 0o644);
    await appendFile(config, '\n');
    await expect(startNodeArtifact(outDir, { env: isolated })).rejects.toThrow(/does not match its lock entry[\s\S]*config\.json/);
  });
});

/** A POST over a kept-alive connection pool, read to its end. */
function postOver(agent: Agent, url: URL, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { agent, method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body: text }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('a node artifact serving as honnx serve does', () => {
  const outDir = join(projectRoot, '.cache/build-test-node-serving/classify');
  const key = 'artifact-test-key-0123456789abcdef';
  let node: RunningArtifact;

  beforeAll(async () => {
    const [classify] = (await listFunctionSources(join(projectRoot, 'functions'))).filter((fn) => fn.name === 'classify');
    const model = await listShippedModel('sentiment-sst2-mini', join(mirrorFolder, 'sentiment-sst2-mini'));
    await buildNode({ projectRoot, outDir, fn: { ...classify, model } });
    node = await startNodeArtifact(outDir, {
      env: { HONNX_MIRROR: mirrorFolder, HONNX_CACHE: join(projectRoot, '.cache/empty-cache'), HONNX_WORKERS: '2', HONNX_API_KEYS: key, HONNX_SHUTDOWN_TIMEOUT: '30', HONNX_CORS_ORIGINS: 'https://app.example.com' },
    });
  }, 120_000);
  afterAll(() => node?.stop());

  const authorized = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } });
  const classify = (init: RequestInit) => fetch(`${node.url}/classify`, { ...init, method: 'POST', headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });

  it('ships a bundled worker entry and runs the model on worker threads from it', async () => {
    expect(existsSync(join(outDir, NODE_WORKER_ENTRY))).toBe(true);
    const info = (await (await fetch(`${node.url}/classify`, authorized())).json()) as { engine: string; serving: { lanes: number } };
    expect(info.engine).toBe('onnxruntime-node');
    expect(info.serving.lanes).toBe(2);
    const answers = await Promise.all(
      ['I love this', 'I hate this'].map(async (inputs) => (await (await classify(authorized({ body: JSON.stringify({ inputs }) }))).json()) as { label: string }[][]),
    );
    // sentiment-sst2-mini sanity.json: "I love this" → POSITIVE, "I hate this" → NEGATIVE.
    expect(answers.map((answer) => answer[0][0].label)).toEqual(['POSITIVE', 'NEGATIVE']);
  });

  it('refuses requests without the API key, answers an allowed origin with CORS headers, and logs one JSON line per request without its text', async () => {
    const missing = await classify({ body: '{"inputs":"secret text one"}' });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await readErrorBody(missing)).code).toBeTruthy();
    const wrong = await classify({ body: '{"inputs":"secret text two"}', headers: { authorization: 'Bearer not-the-key' } });
    expect(wrong.status).toBe(401);
    // CORS as configured: a browser on the allowed origin may read the answer.
    const fromBrowser = await classify(authorized({ body: '{"inputs":"I love this"}', headers: { origin: 'https://app.example.com' } }));
    expect(fromBrowser.status).toBe(200);
    expect(fromBrowser.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect((await fetch(`${node.url}/metrics`)).status).toBe(401);
    const metrics = await (await fetch(`${node.url}/metrics`, authorized())).text();
    expect(metrics).toMatch(/honnx_requests_total\{function="classify",status="401"\} 2/);
    expect(metrics).toMatch(/process_resident_memory_bytes \d+/);
    // Request lines are written in batches, at most 50 ms after their request.
    const requestLines = () =>
      node
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((record) => record.event === 'request' && record.function === 'classify');
    await vi.waitFor(() => expect(requestLines().filter((record) => record.status === 401)).toHaveLength(2));
    expect(node.output()).not.toContain('secret text');
    expect(node.output()).not.toContain(key);
  });

  it('answers every request it accepted after SIGTERM, then exits 0', async () => {
    // Connections opened (and kept alive) before the signal, so that every request of the second wave is accepted.
    const connections = 64;
    const agent = new Agent({ keepAlive: true, maxSockets: connections });
    const url = new URL(`${node.url}/classify`);
    // sentiment-sst2-mini sanity.json: "An absolute masterpiece" → POSITIVE. Eight inputs a request keep the threads busy.
    const body = JSON.stringify({ inputs: Array.from({ length: 8 }, () => 'An absolute masterpiece') });
    const post = () => postOver(agent, url, body, { authorization: `Bearer ${key}` });
    expect((await Promise.all(Array.from({ length: connections }, post))).map(({ status }) => status)).toEqual(Array.from({ length: connections }, () => 200));
    let signalled = false;
    const settled = await Promise.all(
      Array.from({ length: connections }, async () => {
        const answer = await post();
        if (!signalled) {
          // The first answer: the other requests are queued or running in the worker threads now.
          signalled = true;
          process.kill(node.pid, 'SIGTERM');
        }
        return answer;
      }),
    );
    agent.destroy();
    expect(settled.map(({ status }) => status)).toEqual(settled.map(() => 200));
    for (const { body: text } of settled) expect((JSON.parse(text) as { label: string }[][]).map((labels) => labels[0].label)).toEqual(Array(8).fill('POSITIVE'));
    expect(await node.exited).toBe(0);
    const started = node
      .output()
      .split('\n')
      .filter((line) => line.includes('"shutdown_started"'))
      .map((line) => JSON.parse(line) as { in_flight: number });
    // Requests were still in flight when the signal came.
    expect(started).toHaveLength(1);
    expect(started[0].in_flight).toBeGreaterThan(0);
  });
});
