/**
 * The per-request work the /v1/chat/completions surface does and POST /generate does not, timed piece by piece in
 * one process (warm, 20,000 calls each, microseconds a call): the body's zod parse against the Hugging Face
 * envelope's inputs and parameters parses, messages and parameters, the completion id, and the larger answer's
 * Response. Usage: `node bin/run-ts.mjs bench/openai/pieces.ts`. Figures: bench/openai/RESULTS.md.
 */
import { chatCompletionRequestSchema, parseOpenAiRequest } from '../../src/http/surfaces/openai/openai-requests.ts';
import { toChatMessages } from '../../src/http/surfaces/openai/chat-completions.ts';
import { toGenerateParameters } from '../../src/http/surfaces/openai/generation-call.ts';
import { createCompletionId } from '../../src/http/surfaces/openai/openai-stream.ts';
import { generateEndpoint } from '../../src/endpoints/generate-endpoint.ts';
const PROMPT = 'Once upon a time, there was a dog';
const v1Text = JSON.stringify({ model: 'generate', messages: [{ role: 'user', content: PROMPT }], max_tokens: 1, temperature: 0, stream: false });
const genText = JSON.stringify({ inputs: PROMPT, parameters: { max_new_tokens: 1, do_sample: false }, stream: false });
function time(name: string, f: () => unknown) {
  for (let i = 0; i < 5000; i++) f();
  const n = 20000; const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  console.log(name.padEnd(40), (((performance.now() - t0) / n) * 1000).toFixed(2), 'µs');
}
time('v1 zod parse', () => parseOpenAiRequest(chatCompletionRequestSchema, JSON.parse(v1Text)));
time('gen inputs+parameters parse', () => { const b = JSON.parse(genText); generateEndpoint.inputsSchema.safeParse(b.inputs); generateEndpoint.parametersSchema.safeParse(b.parameters); });
time('gen v1-parameters parse', () => generateEndpoint.parametersSchema.safeParse({ details: true, return_full_text: false, return_confidence: true, max_new_tokens: 1, do_sample: false }));
const request = parseOpenAiRequest(chatCompletionRequestSchema, JSON.parse(v1Text));
time('toChatMessages+toGenerateParameters', () => { toChatMessages(request.messages); toGenerateParameters(request, 1, undefined); });
time('createCompletionId', () => createCompletionId('chatcmpl'));
time('new Response v1 body', () => new Response(JSON.stringify({ id: 'chatcmpl-fad5f969bfde406fb0bfb3923e09738a', object: 'chat.completion', created: 1796354897, model: 'generate', choices: [{ index: 0, message: { role: 'assistant', content: ' named', refusal: null }, logprobs: null, finish_reason: 'length' }], usage: { prompt_tokens: 11, completion_tokens: 1, total_tokens: 12 } }), { headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'x' } }));
time('new Response gen body', () => new Response(JSON.stringify([{ generated_text: ' named' }]), { headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'x' } }));
