import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServingMetrics, type ServingMetrics } from '../../src/http/metrics/serving-metrics.ts';
import { resolveServerSettings } from '../../src/http/settings/server-settings.ts';
import { postJson, type SendRequest } from '../support/requests.ts';
import { transports } from '../support/transports.ts';
import { parseWithReference } from './prometheus-reference-parser.ts';
import { checkPrometheusText, type CheckedFamily } from './prometheus-text-format.ts';
import { captureLogs, createLoadedApp, createSentimentHost } from './serving-fixtures.ts';

const KEY = 'metrics-test-key-0123456789abcdef';

describe.each(transports)('GET /metrics ($name)', (transport) => {
  let started: { send: SendRequest; stop(): Promise<void> };
  let metrics: ServingMetrics;

  beforeAll(async () => {
    metrics = createServingMetrics();
    const classify = createSentimentHost('classify');
    const server = resolveServerSettings({ environment: { HONNX_API_KEYS: KEY }, functions: [] });
    const app = await createLoadedApp({ functions: [classify], server, metrics, logger: captureLogs().logger });
    started = await transport.start(app.fetch);
  });
  afterAll(() => started.stop());

  const authorized = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${KEY}` } });

  async function scrape(): Promise<{ text: string; families: Map<string, CheckedFamily> }> {
    const response = await started.send('/metrics', authorized());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    return { text, families: new Map(checkPrometheusText(text).map((family) => [family.name, family])) };
  }

  const valueOf = (family: CheckedFamily | undefined, name: string, labels: Record<string, string>) =>
    family?.samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;

  it('counts requests by function and status, times them, and reports what the scheduler emits', async () => {
    for (const text of ['I love this', 'I hate this', 'What a film']) {
      expect((await started.send('/classify', authorized(postJson({ inputs: text })))).status).toBe(200);
    }
    expect((await started.send('/classify', authorized(postJson({ inputs: 42 })))).status).toBe(400);
    expect((await started.send('/classify', postJson({ inputs: 'no key' }))).status).toBe(401);

    // What the scheduler reports through the ServingEvents seam.
    metrics.events.queueDepthChanged('classify', 4);
    metrics.events.requestDequeued('classify', 12);
    metrics.events.requestDequeued('classify', 30);
    metrics.events.batchCompleted('classify', 8, 7.5);
    metrics.events.batchCompleted('classify', 1, 2);
    metrics.events.tokensGenerated('generate', 17);
    metrics.events.tokensGenerated('generate', 3);
    metrics.events.requestRejected('classify', 'queue_full');

    const { families } = await scrape();
    const requests = families.get('honnx_requests_total');
    expect(requests?.type).toBe('counter');
    expect(valueOf(requests, 'honnx_requests_total', { function: 'classify', status: '200' })).toBe(3);
    expect(valueOf(requests, 'honnx_requests_total', { function: 'classify', status: '400' })).toBe(1);
    expect(valueOf(requests, 'honnx_requests_total', { function: 'classify', status: '401' })).toBe(1);
    expect(valueOf(families.get('honnx_request_duration_seconds'), 'honnx_request_duration_seconds_count', { function: 'classify' })).toBe(5);

    const queueWait = families.get('honnx_queue_wait_seconds');
    expect(valueOf(queueWait, 'honnx_queue_wait_seconds_count', { function: 'classify' })).toBe(2);
    expect(valueOf(queueWait, 'honnx_queue_wait_seconds_sum', { function: 'classify' })).toBeCloseTo(0.042, 12);
    expect(valueOf(queueWait, 'honnx_queue_wait_seconds_bucket', { function: 'classify', le: '0.025' })).toBe(1);
    const batches = families.get('honnx_batch_size');
    expect(valueOf(batches, 'honnx_batch_size_bucket', { function: 'classify', le: '1' })).toBe(1);
    expect(valueOf(batches, 'honnx_batch_size_bucket', { function: 'classify', le: '4' })).toBe(1);
    expect(valueOf(batches, 'honnx_batch_size_bucket', { function: 'classify', le: '8' })).toBe(2);
    expect(valueOf(batches, 'honnx_batch_size_sum', { function: 'classify' })).toBe(9);
    expect(valueOf(families.get('honnx_inference_seconds'), 'honnx_inference_seconds_sum', { function: 'classify' })).toBeCloseTo(0.0095, 12);
    expect(valueOf(families.get('honnx_generated_tokens_total'), 'honnx_generated_tokens_total', { function: 'generate' })).toBe(20);
    expect(valueOf(families.get('honnx_queue_depth'), 'honnx_queue_depth', { function: 'classify' })).toBe(4);
    expect(valueOf(families.get('honnx_requests_rejected_total'), 'honnx_requests_rejected_total', { function: 'classify', reason: 'queue_full' })).toBe(1);
    expect(valueOf(families.get('honnx_model_load_seconds'), 'honnx_model_load_seconds', { function: 'classify' })).toBeGreaterThan(0);
    // The scrape itself is the one request in flight while the text is rendered.
    expect(valueOf(families.get('honnx_requests_in_flight'), 'honnx_requests_in_flight', {})).toBe(1);
  });

  it('serves text an independent parser (parse-prometheus-text-format) reads', async () => {
    const { text } = await scrape();
    const families = parseWithReference(text);
    const requests = families.find((family) => family.name === 'honnx_requests_total');
    expect(requests?.type).toBe('COUNTER');
    expect(Number(requests?.metrics.find((metric) => metric.labels?.status === '200')?.value)).toBeGreaterThanOrEqual(3);
    expect(families.find((family) => family.name === 'honnx_request_duration_seconds')?.type).toBe('HISTOGRAM');
  });

  it('needs the server key when the server has one', async () => {
    const response = await started.send('/metrics');
    expect(response.status).toBe(401);
  });
});
