/** What a task reports of its model runs, for metrics (generation, whose runs serve many requests at once). */
export interface RunObserver {
  runCompleted(requests: number, milliseconds: number): void;
  tokensGenerated(count: number): void;
}
