export type HubErrorKind = 'not_found' | 'unauthorized' | 'forbidden' | 'timeout' | 'http' | 'network' | 'integrity' | 'interrupted' | 'conflict';

/** A failure talking to a hub, with a message that says what to do about it. */
export class HubError extends Error {
  constructor(
    readonly kind: HubErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HubError';
  }

  /** Worth trying again, resuming where the last attempt stopped. */
  get retryable(): boolean {
    return this.kind === 'timeout' || this.kind === 'network' || (this.kind === 'http' && (this.status ?? 0) >= 500);
  }
}

export interface FailedRequest {
  endpoint: string;
  repo: string;
  /** The file asked for; absent for the repository listing. */
  file?: string;
  revision: string;
  status: number;
  /** The hub's X-Error-Code header: RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo. */
  errorCode?: string | null;
  errorMessage?: string | null;
  tokenSent: boolean;
}

/** Turns a hub error status into an error whose message names the cause and the fix. */
export function explainHubStatus(request: FailedRequest): HubError {
  const { endpoint, repo, revision, status, errorCode, tokenSent, file } = request;
  const what = file ? `${file} of ${repo}` : `repository ${repo}`;
  const detail = request.errorMessage ? ` The hub said: ${request.errorMessage}` : '';
  if (errorCode === 'RevisionNotFound') {
    return new HubError('not_found', `revision "${revision}" of ${repo} was not found at ${endpoint} (${status}); check the branch, tag or commit.${detail}`, status);
  }
  if (errorCode === 'EntryNotFound' || (status === 404 && file !== undefined && errorCode !== 'RepoNotFound')) {
    return new HubError('not_found', `${what} was not found at ${endpoint} (revision ${revision}, ${status}).${detail}`, status);
  }
  if (errorCode === 'GatedRepo') {
    return new HubError('forbidden', `${repo} is gated (${status}): accept its conditions on its hub page, then set HF_TOKEN to a token of that account.${detail}`, status);
  }
  if (status === 404 || errorCode === 'RepoNotFound') {
    const privateHint = tokenSent ? '' : ' If it is private, set HF_TOKEN to a token that can read it.';
    return new HubError('not_found', `repository ${repo} was not found at ${endpoint} (${status}); check the id, for example "Xenova/distilbert-base-uncased-finetuned-sst-2-english".${privateHint}${detail}`, status);
  }
  if (status === 401) {
    return new HubError(
      'unauthorized',
      tokenSent
        ? `${endpoint} refused the token in HF_TOKEN for ${what} (401 Unauthorized): it is invalid or expired; create a new read token.${detail}`
        : `${endpoint} requires authentication for ${what} (401 Unauthorized): the repository is private; set HF_TOKEN to an access token that can read it.${detail}`,
      status,
    );
  }
  if (status === 403) {
    return new HubError('forbidden', `${endpoint} forbids ${what} (403 Forbidden): the token in HF_TOKEN has no access to ${repo}.${detail}`, status);
  }
  if (status === 429) return new HubError('http', `${endpoint} is rate-limiting requests for ${what} (429); wait and try again.${detail}`, status);
  return new HubError('http', `${endpoint} answered ${status} for ${what}.${detail}`, status);
}
