import { HubError } from '../hub/hub-errors.ts';

/** A user name and password (Basic, or for the token flow), or a bearer token; `from` says where they were read, for messages. */
export type RegistryCredentials = ({ username: string; password: string } | { token: string }) & { from?: string };

/** Where credentials came from, as a message names it: the environment variables by default. */
export function describeCredentialSource(credentials: RegistryCredentials): string {
  return credentials.from ?? ('token' in credentials ? 'HONNX_REGISTRY_TOKEN' : 'HONNX_REGISTRY_USERNAME / HONNX_REGISTRY_PASSWORD');
}

export interface AuthChallenge {
  scheme: 'basic' | 'bearer';
  parameters: Record<string, string>;
}

/** Reads `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` (or `Basic realm="..."`). */
export function parseAuthChallenge(header: string | null): AuthChallenge | undefined {
  const match = /^\s*(Basic|Bearer)\b(.*)$/i.exec(header ?? '');
  if (!match) return undefined;
  const parameters: Record<string, string> = {};
  for (const pair of match[2].matchAll(/([A-Za-z_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) parameters[pair[1].toLowerCase()] = pair[2] ?? pair[3];
  return { scheme: match[1].toLowerCase() as AuthChallenge['scheme'], parameters };
}

const basicHeader = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

// Registry tokens are short JWTs; anything far longer is not one.
const MAX_TOKEN_ANSWER_BYTES = 64 * 1024;

/**
 * The Authorization header that answers a registry's challenge: the credentials themselves for Basic, or a
 * token fetched from the challenge's realm (the distribution spec's token flow, with the credentials as Basic
 * auth when there are any, anonymously otherwise) for Bearer.
 */
export async function answerChallenge(options: {
  challenge: AuthChallenge;
  credentials?: RegistryCredentials;
  /** `repository:<name>:pull` or `...:pull,push`, used when the challenge names no scope. */
  scope: string;
  registry: string;
  timeoutMs: number;
}): Promise<string> {
  const { challenge, credentials, registry } = options;
  if (credentials && 'token' in credentials) return `Bearer ${credentials.token}`;
  if (challenge.scheme === 'basic') {
    if (!credentials) throw new HubError('unauthorized', `${registry} requires a user name and password (401, Basic auth): set HONNX_REGISTRY_USERNAME and HONNX_REGISTRY_PASSWORD, or docker login`, 401);
    return basicHeader(credentials.username, credentials.password);
  }
  const realm = challenge.parameters.realm;
  let url: URL;
  try {
    url = new URL(realm ?? '');
  } catch {
    throw new HubError('http', `${registry} asked for a token without a usable realm URL (${JSON.stringify(realm)})`, 401);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new HubError('http', `${registry} named a token realm that is not http(s): ${realm}`, 401);
  if (challenge.parameters.service) url.searchParams.set('service', challenge.parameters.service);
  url.searchParams.set('scope', challenge.parameters.scope ?? options.scope);
  const headers: Record<string, string> = { 'user-agent': 'honnx', accept: 'application/json' };
  if (credentials) headers.authorization = basicHeader(credentials.username, credentials.password);
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (error) {
    throw new HubError('network', `the token service of ${registry} (${url.origin}) could not be reached: ${(error as Error).message}`);
  }
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    throw new HubError(
      'unauthorized',
      credentials
        ? `the token service of ${registry} refused the credentials from ${describeCredentialSource(credentials)} (${response.status})`
        : `${registry} requires credentials (${response.status}): set HONNX_REGISTRY_USERNAME and HONNX_REGISTRY_PASSWORD, or HONNX_REGISTRY_TOKEN, or docker login`,
      401,
    );
  }
  const text = await response.text();
  if (response.status !== 200 || text.length > MAX_TOKEN_ANSWER_BYTES) throw new HubError('http', `the token service of ${registry} answered ${response.status}`, response.status);
  let token: unknown;
  try {
    const body = JSON.parse(text) as { token?: unknown; access_token?: unknown };
    token = body.token ?? body.access_token;
  } catch {
    token = undefined;
  }
  // A header value with a line break in it would be a header injection: only a printable token is used.
  if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)) throw new HubError('http', `the token service of ${registry} sent no usable token`);
  return `Bearer ${token}`;
}
