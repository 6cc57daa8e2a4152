import type { ServingEvents } from '../../spec/serving-events.ts';
import type { FunctionHost } from '../../serving/function-host.ts';
import { createMetricsRegistry, type MetricsRegistry } from './registry.ts';

/** Seconds: from a fraction of a millisecond (a cached tiny encoder) to the 30 s of a long generation. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];
const CONFIDENCE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];

/**
 * honnx's metrics: what the HTTP layer sees of each request, and what the scheduler reports through
 * `events`. One per server (Node) or per isolate (Workers); `GET /metrics` renders `registry`.
 */
export interface ServingMetrics {
  readonly registry: MetricsRegistry;
  /** Hand this to the scheduler: queue depth and wait, batch sizes, inference time, tokens, load times, refusals. */
  readonly events: ServingEvents;
  /** The same events, labelled with the model `version` whose scheduler and sessions did the work (one per version a fleet loads). */
  eventsFor(version: string): ServingEvents;
  /** Requests started and not yet recorded (their log line and metrics written): a shutdown waits for them. */
  requestsInFlight(): number;
  /**
   * A function's request was answered with `status` after `seconds` (streamed answers: once the stream ended), by
   * model `version` where one took it (a canary beside the active version is told apart by it).
   */
  requestAnswered(functionName: string, status: number, seconds: number, version?: string): void;
  /** An answer had these confidences, one per input (or entity), from model `version` where known. */
  confidenceObserved(functionName: string, confidences: readonly number[], version?: string): void;
  /** Requests the server is answering right now, function or not. */
  requestStarted(): void;
  requestEnded(): void;
  /** Reports each host's model load time at scrape, and a zero queue for functions that have not queued yet. */
  watchHosts(hosts: readonly FunctionHost[]): void;
}

/** The server's metrics (requests, queues, batches, tokens, load times) in a registry, served at `/metrics`; `events` feeds them from the scheduler. */
export function createServingMetrics(registry: MetricsRegistry = createMetricsRegistry()): ServingMetrics {
  const watched: FunctionHost[] = [];
  const requests = registry.counter({
    name: 'honnx_requests_total',
    help: 'Requests to each function, by HTTP status of the answer and the model version that took it.',
    labelNames: ['function', 'status'],
    optionalLabelNames: ['version'],
  });
  const perFunction = (name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS) =>
    registry.histogram({ name, help, labelNames: ['function'], optionalLabelNames: ['version'], buckets });
  const requestDuration = registry.histogram({
    name: 'honnx_request_duration_seconds',
    help: 'Time from receiving a function request to the end of its answer (the whole stream for streamed answers), by model version.',
    labelNames: ['function'],
    optionalLabelNames: ['version'],
    buckets: LATENCY_BUCKETS,
  });
  const queueWait = perFunction('honnx_queue_wait_seconds', 'Time a request waited in its function queue before a run took it.');
  const inference = perFunction('honnx_inference_seconds', 'Duration of one batched model run.');
  const batchSize = perFunction('honnx_batch_size', 'Requests served by one batched model run.', BATCH_SIZE_BUCKETS);
  const confidence = registry.histogram({
    name: 'honnx_answer_confidence',
    help:
      "Confidence of each answered input, by model version where known: a generative function's top label score or lowest value-token probability; " +
      "on a server that swaps versions, also each classification's top score and each entity's score.",
    labelNames: ['function'],
    optionalLabelNames: ['version'],
    buckets: CONFIDENCE_BUCKETS,
  });
  const tokens = registry.counter({ name: 'honnx_generated_tokens_total', help: 'Tokens generated.', labelNames: ['function'], optionalLabelNames: ['version'] });
  const queueDepth = registry.gauge({
    name: 'honnx_queue_depth',
    help: 'Requests waiting in the function queue, not counting those running.',
    labelNames: ['function'],
    optionalLabelNames: ['version'],
  });
  const rejected = registry.counter({
    name: 'honnx_requests_rejected_total',
    help: 'Requests refused by the scheduler: queue full (429) or timed out (504).',
    labelNames: ['function', 'reason'],
    optionalLabelNames: ['version'],
  });
  /** A watched host's labels: its function, and the version it serves now where it has versions. */
  const hostLabels = (host: FunctionHost): Record<string, string> => {
    const version = host.modelVersions?.().active;
    return version === undefined ? { function: host.name } : { function: host.name, version };
  };
  const loadSeconds = registry.gauge({
    name: 'honnx_model_load_seconds',
    help: 'Time the function model took to load and warm up.',
    labelNames: ['function'],
    optionalLabelNames: ['version'],
    collect(gauge) {
      for (const host of watched) {
        const milliseconds = host.loadMilliseconds();
        if (milliseconds !== undefined) gauge.set(hostLabels(host), milliseconds / 1000);
      }
    },
  });
  const inFlight = registry.gauge({ name: 'honnx_requests_in_flight', help: 'Requests being answered now.' });
  inFlight.set({}, 0);
  let active = 0;

  /** The scheduler's events, each series labelled with `version` when one is given. */
  const createEvents = (version?: string): ServingEvents => {
    const labelsOf = (name: string): Record<string, string> => (version === undefined ? { function: name } : { function: name, version });
    return {
      queueDepthChanged: (name, depth) => queueDepth.set(labelsOf(name), depth),
      requestDequeued: (name, milliseconds) => queueWait.observe(labelsOf(name), milliseconds / 1000),
      batchCompleted(name, size, milliseconds) {
        batchSize.observe(labelsOf(name), size);
        inference.observe(labelsOf(name), milliseconds / 1000);
      },
      tokensGenerated: (name, count) => tokens.inc(labelsOf(name), count),
      modelLoaded: (name, milliseconds) => loadSeconds.set(labelsOf(name), milliseconds / 1000),
      requestRejected: (name, reason) => rejected.inc({ ...labelsOf(name), reason }),
    };
  };

  return {
    registry,
    events: createEvents(),
    eventsFor: createEvents,
    requestAnswered(name, status, seconds, version) {
      requests.inc(version === undefined ? { function: name, status: String(status) } : { function: name, status: String(status), version });
      requestDuration.observe(version === undefined ? { function: name } : { function: name, version }, seconds);
    },
    confidenceObserved(name, confidences, version) {
      const labels: Record<string, string> = version === undefined ? { function: name } : { function: name, version };
      for (const value of confidences) confidence.observe(labels, value);
    },
    requestStarted: () => {
      active++;
      inFlight.add({}, 1);
    },
    requestEnded: () => {
      active--;
      inFlight.add({}, -1);
    },
    requestsInFlight: () => active,
    watchHosts(hosts) {
      for (const host of hosts) {
        if (watched.includes(host)) continue;
        watched.push(host);
        queueDepth.set(hostLabels(host), 0);
      }
    },
  };
}
