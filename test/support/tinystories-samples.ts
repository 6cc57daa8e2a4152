/** A greedy generation published in tinystories-260k's sanity.json (karpathy's llama2.c run), the reference output. */
export interface GreedySample {
  prompt: string;
  prompt_ids: number[];
  max_new_tokens: number;
  greedy_ids: number[];
  greedy_text: string;
}

/** The greedy samples of tinystories-260k's sanity.json, from its text (read by whichever runtime runs the test). */
export function parseGreedySamples(sanityJson: string): GreedySample[] {
  return (JSON.parse(sanityJson) as { greedy: GreedySample[] }).greedy;
}
