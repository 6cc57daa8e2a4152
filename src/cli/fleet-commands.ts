import { parseArgs } from 'node:util';

export const FLEET_USAGE =
  '  honnx models activate FUNCTION VERSION [--url URL]  swap a running server\'s function to a pulled version (tag, digest), eval-gated\n' +
  '  honnx models rollback FUNCTION [--url URL]          back to the version it served before (HONNX_ADMIN_URL, HONNX_ADMIN_KEY)';

interface AdminAnswer {
  error?: { code: string; message: string; eval?: { score: number; threshold: number; failures: unknown[] } };
  version?: string;
  previous?: string;
  eval?: { score: number; threshold: number };
}

/** `honnx models activate|rollback`: asks a running server's admin endpoint, with the admin key, and prints what it did. */
export async function fleetCommand(action: 'activate' | 'rollback', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { url: { type: 'string' } } });
  const expected = action === 'activate' ? 2 : 1;
  if (positionals.length !== expected) {
    console.error(action === 'activate' ? 'honnx models activate takes a function and a version: FUNCTION VERSION' : 'honnx models rollback takes a function');
    return 2;
  }
  const [functionName, version] = positionals;
  const base = (values.url ?? process.env.HONNX_ADMIN_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`).replace(/\/+$/, '');
  const key = process.env.HONNX_ADMIN_KEY;
  if (!key) {
    console.error(`honnx models ${action}: set HONNX_ADMIN_KEY to one of the server's HONNX_ADMIN_KEYS`);
    return 2;
  }
  let response: Response;
  try {
    response = await fetch(`${base}/admin/functions/${encodeURIComponent(functionName)}/${action}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: action === 'activate' ? JSON.stringify({ version }) : '{}',
      signal: AbortSignal.timeout(600_000),
    });
  } catch (error) {
    console.error(`honnx models ${action}: no server answered at ${base} (${(error as Error).message}); start it, or pass --url`);
    return 1;
  }
  const answer = (await response.json().catch(() => ({}))) as AdminAnswer;
  if (!response.ok) {
    console.error(`honnx models ${action}: ${answer.error?.message ?? `the server answered ${response.status}`}`);
    if (answer.error?.eval) console.error(`  eval: ${JSON.stringify(answer.error.eval.failures.slice(0, 3))}`);
    return 1;
  }
  const gate = answer.eval ? `, eval ${answer.eval.score.toFixed(3)} ≥ ${answer.eval.threshold}` : '';
  console.log(`${functionName}: ${answer.previous} → ${answer.version}${gate}`);
  return 0;
}
