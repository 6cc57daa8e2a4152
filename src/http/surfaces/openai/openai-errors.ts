import type * as z from 'zod/mini';
import { HttpError } from '../../errors.ts';
import { describeIssues } from '../../describe-issues.ts';

/** The error body OpenAI's API sends, which its clients read: `{"error": {"message", "type", "param", "code"}}`. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error about one request field, which OpenAI's body names in `param`. */
export class RequestFieldError extends HttpError {
  constructor(
    readonly param: string,
    message: string,
    code = 'invalid_value',
    status: HttpError['status'] = 400,
  ) {
    super(status, code, message);
  }
}

/** OpenAI's error `type` for each status its clients branch on. */
function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function formatOpenAiError(error: HttpError): OpenAiErrorBody {
  const param = error instanceof RequestFieldError ? error.param : null;
  return { error: { message: error.message, type: errorType(error.status), param, code: error.code } };
}

/** The 400 for a body a schema refused, naming the first field at fault (an unknown key included). */
export function toFieldError(error: z.core.$ZodError, schema: z.ZodMiniType, body: unknown): RequestFieldError {
  const issue = error.issues[0];
  const keys = issue?.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
  const path = [...(issue?.path ?? []).map(String), ...keys.slice(0, 1)];
  const param = path.length === 0 ? '' : path.reduce((joined, part) => (/^\d+$/.test(part) ? `${joined}[${part}]` : joined ? `${joined}.${part}` : part), '');
  const message = describeIssues(error, schema, body, '');
  return new RequestFieldError(param, message, keys.length > 0 ? 'unknown_parameter' : 'invalid_value');
}
