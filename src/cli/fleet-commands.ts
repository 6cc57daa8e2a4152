import { parseArgs } from 'node:util';

export const FLEET_USAGE =
  '  honnx models activate FUNCTION VERSION [--url URL]  swap a running server\'s function to a pulled version (tag, digest), eval-gated\n' +
  '  honnx models rollback FUNCTION [--url URL]          back to the version it served before (HONNX_ADMIN_URL, HONNX_ADMIN_KEY)\n' +
  '  honnx models canary FUNCTION VERSION PERCENT        load VERSION beside the active one (eval-gated) and send it PERCENT% of requests\n' +
  '  honnx models promote FUNCTION                       the canary becomes the active version\n' +
  '  honnx models abort FUNCTION                         stop the canary: every request to the active version again';

/** The admin actions behind `honnx models <action>`, with the positional arguments each takes. */
const ACTIONS = {
  activate: ['FUNCTION', 'VERSION'],
  rollback: ['FUNCTION'],
  canary: ['FUNCTION', 'VERSION', 'PERCENT'],
  promote: ['FUNCTION'],
  abort: ['FUNCTION'],
} as const;

export type FleetAction = keyof typeof ACTIONS;

interface AdminAnswer {
  error?: { code: string; message: string; eval?: { score: number; threshold: number; failures: unknown[] } };
  version?: string;
  previous?: string;
  canary?: string;
  percent?: number;
  active?: string;
  eval?: { score: number; threshold: number };
}

/** What the command prints of a successful answer. */
function describeAnswer(action: FleetAction, functionName: string, answer: AdminAnswer): string {
  const gate = answer.eval ? `, eval ${answer.eval.score.toFixed(3)} ≥ ${answer.eval.threshold}` : '';
  if (action === 'canary') return `${functionName}: canary ${answer.canary} takes ${answer.percent}% of requests beside ${answer.active}${gate}`;
  if (action === 'abort') return `${functionName}: canary ${answer.previous} stopped; ${answer.version} takes every request`;
  return `${functionName}: ${answer.previous} → ${answer.version}${gate}`;
}

/** `honnx models activate|rollback|canary|promote|abort`: asks a running server's admin endpoint, with the admin key, and prints what it did. */
export async function fleetCommand(action: FleetAction, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { url: { type: 'string' } } });
  const expected = ACTIONS[action];
  if (positionals.length !== expected.length) {
    console.error(`honnx models ${action} takes ${expected.join(' ')}`);
    return 2;
  }
  const [functionName, version, percentText] = positionals;
  const percent = Number(percentText);
  if (action === 'canary' && !(percentText !== '' && percent >= 0 && percent <= 100)) {
    console.error(`honnx models canary: PERCENT is a number from 0 to 100 (got "${percentText}")`);
    return 2;
  }
  const base = (values.url ?? process.env.HONNX_ADMIN_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`).replace(/\/+$/, '');
  const key = process.env.HONNX_ADMIN_KEY;
  if (!key) {
    console.error(`honnx models ${action}: set HONNX_ADMIN_KEY to one of the server's HONNX_ADMIN_KEYS`);
    return 2;
  }
  const body = action === 'activate' ? { version } : action === 'canary' ? { version, percent } : {};
  let response: Response;
  try {
    response = await fetch(`${base}/admin/functions/${encodeURIComponent(functionName)}/${action}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
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
  console.log(describeAnswer(action, functionName, answer));
  return 0;
}
