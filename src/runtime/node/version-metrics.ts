import type { ServingMetrics } from '../../http/metrics/serving-metrics.ts';
import type { FleetController } from './fleet-controller.ts';

/** An answer's scores read for the confidence histogram, at most: a batch of 16 inputs with many entities stays cheap. */
const MAX_SCORES_PER_ANSWER = 256;

/**
 * The confidences an answer carries: the top score of each classification (a list of `{label, score}` per input)
 * and the score of each extracted entity. Other answers (summaries, generations, vectors) carry none.
 */
export function readConfidences(answer: unknown): number[] {
  const scores: number[] = [];
  const visit = (value: unknown, depth: number) => {
    if (!Array.isArray(value) || depth > 3 || scores.length >= MAX_SCORES_PER_ANSWER) return;
    const scored = value.filter((item): item is { score: number; label?: unknown } => typeof (item as { score?: unknown })?.score === 'number');
    if (scored.length > 0 && scored.length === value.length) {
      if (scored.every((item) => 'label' in item)) scores.push(Math.max(...scored.map((item) => item.score)));
      else if (scored.every((item) => 'entity_group' in item || 'entity' in item)) scores.push(...scored.slice(0, MAX_SCORES_PER_ANSWER - scores.length).map((item) => item.score));
      return;
    }
    for (const item of value) visit(item, depth + 1);
  };
  visit(answer, 0);
  return scores;
}

/** The per-version metrics of a fleet: what each version serves as (active, previous, canary), and its answers' confidence. */
export interface VersionMetrics {
  /**
   * Hand this to the fleet (`onAnswered`): records the confidences of answers from tasks that report none of their
   * own (classify, extract) in `honnx_answer_confidence`, under the version that gave them.
   */
  observeAnswer(functionName: string, version: string, answer: unknown): void;
  /** Reports, at each scrape, the versions `fleet` serves. */
  watch(fleet: FleetController): void;
}

/**
 * `honnx_model_version_info{function, version, role}`: 1 for the version each function serves (role "active"), the
 * one it would roll back to ("previous") and a canary ("canary"), 0 for versions it served earlier, so that a
 * dashboard can join every other metric of a function to the version that produced it and see each swap;
 * `honnx_canary_percent`; and classification and entity scores in `honnx_answer_confidence{function, version}`, so
 * that a canary's scores compare with the active version's (every other per-function series carries a `version`
 * label of its own).
 */
export function createVersionMetrics(metrics: ServingMetrics): VersionMetrics {
  const { registry } = metrics;
  const seen = new Set<string>();
  let fleet: FleetController | undefined;
  registry.gauge({
    name: 'honnx_model_version_info',
    help: 'Model versions of each function: 1 for the active, previous and canary version, 0 for earlier ones.',
    labelNames: ['function', 'version', 'role'],
    collect(gauge) {
      if (!fleet) return;
      const current = new Set<string>();
      for (const [name, state] of Object.entries(fleet.describe())) {
        current.add(JSON.stringify([name, state.active, 'active']));
        if (state.previous) current.add(JSON.stringify([name, state.previous, 'previous']));
        if (state.canary) current.add(JSON.stringify([name, state.canary.version, 'canary']));
      }
      for (const key of new Set([...seen, ...current])) {
        const [functionName, version, role] = JSON.parse(key) as string[];
        gauge.set({ function: functionName, version, role }, current.has(key) ? 1 : 0);
        seen.add(key);
      }
    },
  });
  const canaries = new Map<string, { function: string; version: string }>();
  registry.gauge({
    name: 'honnx_canary_percent',
    help: 'Share of new requests (0 to 100) a function sends to its canary version; 0 once promoted or aborted.',
    labelNames: ['function', 'version'],
    collect(gauge) {
      if (!fleet) return;
      const running = new Set<string>();
      for (const [name, state] of Object.entries(fleet.describe())) {
        if (!state.canary) continue;
        const labels = { function: name, version: state.canary.version };
        const key = JSON.stringify(labels);
        running.add(key);
        canaries.set(key, labels);
        gauge.set(labels, state.canary.percent);
      }
      for (const [key, labels] of canaries) if (!running.has(key)) gauge.set(labels, 0);
    },
  });
  return {
    observeAnswer(functionName, version, answer) {
      const scores = readConfidences(answer);
      if (scores.length > 0) metrics.confidenceObserved(functionName, scores, version);
    },
    watch(watched) {
      fleet = watched;
    },
  };
}
