/** One validated request as a task sees it: inputs, parameters (the function's defaults merged under the request's). */
export interface TaskCall {
  inputs: unknown;
  parameters: Record<string, unknown>;
  /** The request asked for a streamed answer. */
  stream: boolean;
}
