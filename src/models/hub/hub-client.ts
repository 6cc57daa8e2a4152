import { explainHubStatus, HubError } from './hub-errors.ts';
import { requestFromHub, type HubResponse } from './hub-request.ts';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';
export const DEFAULT_TIMEOUT_MS = 30_000;

/** One file of a repository as the hub lists it. */
export interface HubFile {
  path: string;
  size?: number;
  /** Files kept in LFS (graphs, weights) carry their sha256. */
  sha256?: string;
  /** Files kept in git (JSON) carry their git blob id instead. */
  gitBlobId?: string;
}

export interface RepositoryListing {
  repo: string;
  revision: string;
  /** The commit the revision pointed to: downloads use it, so that every file comes from the same snapshot. */
  commit: string;
  files: HubFile[];
}

export interface HubClientOptions {
  /** `HF_ENDPOINT`; the Hugging Face hub by default. A `honnx mirror serve` URL works the same way. */
  endpoint?: string;
  /** `HF_TOKEN`: sent as a bearer token to the endpoint only, never to the hosts downloads redirect to. */
  token?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HubClient {
  readonly endpoint: string;
  readonly tokenSent: boolean;
  listRepository(repo: string, revision: string): Promise<RepositoryListing>;
  fileUrl(repo: string, revision: string, path: string): string;
  /** Opens a file for reading from byte `start` on; throws a HubError for any answer but 200 or 206 (or 416 when resuming). */
  openFile(repo: string, revision: string, path: string, start?: number): Promise<HubResponse>;
}

interface Sibling {
  rfilename?: string;
  size?: number;
  blobId?: string;
  lfs?: { sha256?: string; oid?: string; size?: number };
}

const REPOSITORY_ID = /^[\w.-]+(\/[\w.-]+)?$/;

export function checkRepositoryId(repo: string): void {
  if (!REPOSITORY_ID.test(repo) || repo.split('/').some((part) => part === '.' || part === '..')) {
    throw new HubError('not_found', `"${repo}" is not a repository id; use "organisation/name", for example "Xenova/distilbert-base-uncased-finetuned-sst-2-english"`);
  }
}

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/** A git commit id: what a hub's `sha` must be, since it becomes part of a folder name, a URL and the lock. */
const COMMIT_ID = /^[0-9a-f]{40}$/;

/**
 * Whether a file name from a listing is a path inside the repository: relative, in `/`-separated segments that are
 * neither empty, `.` nor `..`, with no backslash, drive letter or control character. Any other would be joined onto
 * the cache folder and could write outside it.
 */
export function isRepositoryFilePath(path: string): boolean {
  if (path.length === 0 || path.length > 1024 || /[\x00-\x1f\x7f\\:]/.test(path) || path.startsWith('/')) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** `JSON.stringify` of a value a hub sent, cut short: safe to put in a message whatever it holds. */
const showHubValue = (value: unknown) => JSON.stringify(value)?.slice(0, 80) ?? String(value);

function readListing(repo: string, revision: string, body: unknown, endpoint: string): RepositoryListing {
  const info = body as { sha?: unknown; siblings?: Sibling[] };
  if (!info || !Array.isArray(info.siblings)) throw new HubError('http', `${endpoint} sent no file list for ${repo}; is it a Hugging Face hub or a honnx mirror?`);
  if (typeof info.sha !== 'string' || !COMMIT_ID.test(info.sha)) {
    throw new HubError('http', `${endpoint} sent ${showHubValue(info.sha)} as the commit of ${repo} at ${revision}, not a commit id (40 hex digits); nothing was fetched`);
  }
  const badName = info.siblings.find((sibling) => typeof sibling.rfilename !== 'string' || !isRepositoryFilePath(sibling.rfilename));
  if (badName) {
    throw new HubError('http', `${endpoint} lists ${showHubValue(badName.rfilename)} in ${repo}, not a file name inside a repository (relative, no "..", "." or empty parts, no backslash, drive or control character); nothing was fetched`);
  }
  return {
    repo,
    revision,
    commit: info.sha,
    files: info.siblings
      .filter((sibling) => typeof sibling.rfilename === 'string')
      .map((sibling) => ({
        path: sibling.rfilename!,
        size: sibling.lfs?.size ?? sibling.size,
        sha256: sibling.lfs?.sha256 ?? sibling.lfs?.oid,
        gitBlobId: sibling.lfs ? undefined : sibling.blobId,
      })),
  };
}

/** A client for the parts of the Hugging Face hub protocol that downloading a model needs. */
export function createHubClient(options: HubClientOptions = {}): HubClient {
  const endpoint = (options.endpoint ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const token = options.token || undefined;
  const request = (url: string, headers?: Record<string, string>) => requestFromHub(url, { token, timeoutMs, headers, signal: options.signal });
  const fail = async (opened: HubResponse, repo: string, revision: string, file?: string): Promise<never> => {
    opened.finish();
    await opened.response.body?.cancel();
    const { headers, status } = opened.response;
    throw explainHubStatus({ endpoint, repo, revision, file, status, errorCode: headers.get('x-error-code'), errorMessage: headers.get('x-error-message'), tokenSent: token !== undefined });
  };
  return {
    endpoint,
    tokenSent: token !== undefined,
    async listRepository(repo, revision) {
      checkRepositoryId(repo);
      const opened = await request(`${endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`, { accept: 'application/json' });
      if (opened.response.status !== 200) return fail(opened, repo, revision);
      try {
        return readListing(repo, revision, await opened.response.json(), endpoint);
      } catch (error) {
        if (error instanceof HubError) throw error;
        throw new HubError('http', `${endpoint} sent an unreadable file list for ${repo}: ${(error as Error).message}`);
      } finally {
        opened.finish();
      }
    },
    fileUrl(repo, revision, path) {
      return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(path)}`;
    },
    async openFile(repo, revision, path, start = 0) {
      checkRepositoryId(repo);
      const opened = await request(this.fileUrl(repo, revision, path), start > 0 ? { range: `bytes=${start}-` } : undefined);
      const { status } = opened.response;
      if (status === 200 || status === 206 || (status === 416 && start > 0)) return opened;
      return fail(opened, repo, revision, path);
    },
  };
}
