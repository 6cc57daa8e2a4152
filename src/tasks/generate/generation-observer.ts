import type { GenerativeModel } from './generative-model.ts';

/** What generation on a model reports as it runs, for metrics. */
export interface GenerationObserver {
  /** One run finished: how many sequences it advanced, and how long it took. */
  runCompleted(rows: number, milliseconds: number): void;
  tokensGenerated(count: number): void;
}

const observers = new WeakMap<GenerativeModel, GenerationObserver>();

/** Sets who hears about `model`'s runs and tokens (one observer per model; the serving layer sets it). */
export function observeGeneration(model: GenerativeModel, observer: GenerationObserver): void {
  observers.set(model, observer);
}

export function generationObserverOf(model: GenerativeModel): GenerationObserver | undefined {
  return observers.get(model);
}
