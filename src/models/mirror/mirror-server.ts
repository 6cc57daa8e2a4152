import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MirrorRepositories, type MirrorFile, type MirrorRepository } from './mirror-repositories.ts';

export interface MirrorOptions {
  /** The folder of models to serve, in the Hugging Face layout. */
  folder: string;
  /** When set, every request must carry `Authorization: Bearer <token>` (what HF_TOKEN sends). */
  token?: string;
  /** One line per request, for the operator's log. */
  log?: (line: string) => void;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** Errors the way the hub sends them: a status, X-Error-Code / X-Error-Message headers and {"error": ...}. */
function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  // A header holds printable ASCII only: a path decoded into the message may carry anything (%00, CR LF, UTF-8).
  sendJson(response, status, { error: message }, { 'x-error-code': code, 'x-error-message': message.replace(/[^\x20-\x7e]/g, '?') });
}

/**
 * The request's path, decoded, or undefined when it cannot name a file of a repository: bad percent-encoding
 * (`%ff`, overlong UTF-8), control characters (`%00`, CR LF), backslashes, or `.` and `..` segments.
 */
function decodePath(pathname: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (/[\x00-\x1f\x7f\\]/.test(path)) return undefined;
  return path.split('/').some((segment) => segment === '.' || segment === '..') ? undefined : path;
}

const digestOf = (text: string) => createHash('sha256').update(text).digest();

/** Compares digests in constant time, so that how long a refusal takes tells nothing about the token. */
function createTokenCheck(token: string | undefined): (authorization: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const expected = digestOf(`Bearer ${token}`);
  return (authorization) => timingSafeEqual(digestOf(authorization ?? ''), expected);
}

function describeSibling(file: MirrorFile) {
  return {
    rfilename: file.path,
    size: file.size,
    blobId: file.gitBlobId,
    ...(file.lfs ? { lfs: { sha256: file.sha256, size: file.size, pointerSize: 134 } } : {}),
  };
}

function describeTreeEntry(file: MirrorFile) {
  return {
    type: 'file',
    oid: file.gitBlobId,
    size: file.size,
    path: file.path,
    ...(file.lfs ? { lfs: { oid: file.sha256, size: file.size, pointerSize: 134 } } : {}),
  };
}

/** Parses "bytes=N-" or "bytes=N-M" (one range, as download clients send); undefined when absent or unusable. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return suffix === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return start >= size || end < start ? 'unsatisfiable' : { start, end };
}

function sendFile(request: IncomingMessage, response: ServerResponse, repository: MirrorRepository, file: MirrorFile): void {
  const etag = `"${file.lfs ? file.sha256 : file.gitBlobId}"`;
  const headers: Record<string, string | number> = {
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
    etag,
    'x-repo-commit': repository.commit,
    ...(file.lfs ? { 'x-linked-etag': etag, 'x-linked-size': file.size } : {}),
  };
  const range = parseRange(request.headers.range, file.size);
  const ifRange = request.headers['if-range'];
  const honourRange = range !== undefined && (ifRange === undefined || ifRange === etag);
  if (honourRange && range === 'unsatisfiable') {
    response.writeHead(416, { ...headers, 'content-range': `bytes */${file.size}` });
    response.end();
    return;
  }
  const { start, end } = honourRange && range !== 'unsatisfiable' && range ? range : { start: 0, end: file.size - 1 };
  const partial = honourRange && range !== 'unsatisfiable';
  response.writeHead(partial ? 206 : 200, {
    ...headers,
    'content-length': Math.max(0, end - start + 1),
    ...(partial ? { 'content-range': `bytes ${start}-${end}/${file.size}` } : {}),
  });
  if (request.method === 'HEAD' || file.size === 0) {
    response.end();
    return;
  }
  createReadStream(join(repository.folder, file.path), { start, end }).pipe(response);
}

/** Splits "/api/models/<repo>/<marker>/<rest>" where the repository id may itself hold a slash. */
function splitAt(path: string, marker: string): [string, string] | undefined {
  const index = path.indexOf(`/${marker}/`);
  return index > 0 ? [path.slice(0, index), path.slice(index + marker.length + 2)] : undefined;
}

/**
 * `honnx mirror serve`: answers the requests `honnx models pull`, huggingface_hub and transformers.js make of
 * the Hugging Face hub, from a folder of models:
 *   GET /api/models                               the repository ids
 *   GET /api/models/<repo>[/revision/<rev>]       repository info with siblings (size, blobId, lfs.sha256)
 *   GET /api/models/<repo>/tree/<rev>[/<path>]    the file tree
 *   GET|HEAD /<repo>/resolve/<rev>/<path>          the file, with Range, ETag and X-Repo-Commit
 * Revisions: "main" and the content id the listing reports as `sha`.
 */
export function createMirrorHandler(options: MirrorOptions): Handler {
  const repositories = new MirrorRepositories(options.folder);
  const withRevision = async (response: ServerResponse, id: string, revision: string): Promise<MirrorRepository | undefined> => {
    const repository = await repositories.open(id);
    if (!repository) {
      sendError(response, 404, 'RepoNotFound', `Repository not found: ${id}`);
      return undefined;
    }
    if (revision !== 'main' && revision !== repository.commit) {
      sendError(response, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
      return undefined;
    }
    return repository;
  };

  const isAuthorized = createTokenCheck(options.token);
  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    if (!isAuthorized(request.headers.authorization)) {
      sendError(response, 401, 'Unauthorized', request.headers.authorization ? 'Invalid credentials in Authorization header' : 'Authentication required');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendError(response, 405, 'MethodNotAllowed', 'this mirror is read-only');
      return;
    }
    const url = new URL(request.url ?? '/', 'http://mirror.local');
    const path = decodePath(url.pathname);
    if (path === undefined) {
      sendError(response, 400, 'BadRequest', `malformed path: ${url.pathname}`);
      return;
    }
    if (path === '/api/models' || path === '/api/models/') {
      sendJson(response, 200, (await repositories.listIds()).map((id) => ({ id, modelId: id })));
      return;
    }
    if (path.startsWith('/api/models/')) {
      const rest = path.slice('/api/models/'.length).replace(/\/+$/, '');
      const tree = splitAt(rest, 'tree');
      if (tree) {
        const [id, revisionAndPath] = tree;
        const [revision, ...prefixParts] = revisionAndPath.split('/');
        const repository = await withRevision(response, id, revision);
        if (!repository) return;
        const prefix = prefixParts.join('/');
        const recursive = url.searchParams.get('recursive') === 'true' || url.searchParams.get('recursive') === '1';
        const below = repository.files.filter((file) => !prefix || file.path.startsWith(`${prefix}/`));
        const entries = new Map<string, unknown>();
        for (const file of below) {
          const relative = prefix ? file.path.slice(prefix.length + 1) : file.path;
          const [first, ...deeper] = relative.split('/');
          if (recursive || deeper.length === 0) entries.set(file.path, describeTreeEntry(file));
          if (deeper.length > 0) {
            const directories = recursive ? deeper.map((_, index) => [first, ...deeper.slice(0, index)].join('/')) : [first];
            for (const directory of directories) {
              const full = prefix ? `${prefix}/${directory}` : directory;
              if (!entries.has(full)) entries.set(full, { type: 'directory', oid: '', size: 0, path: full });
            }
          }
        }
        sendJson(response, 200, [...entries.values()]);
        return;
      }
      const revisioned = splitAt(rest, 'revision');
      const [id, revision] = revisioned ?? [rest, 'main'];
      const repository = await withRevision(response, id, revision);
      if (!repository) return;
      sendJson(response, 200, { id, modelId: id, sha: repository.commit, private: false, siblings: repository.files.map(describeSibling) });
      return;
    }
    const resolved = splitAt(path.slice(1), 'resolve');
    if (resolved) {
      const [id, revisionAndPath] = resolved;
      const [revision, ...fileParts] = revisionAndPath.split('/');
      const repository = await withRevision(response, id, revision);
      if (!repository) return;
      const file = repository.files.find((candidate) => candidate.path === fileParts.join('/'));
      if (!file) {
        sendError(response, 404, 'EntryNotFound', `${fileParts.join('/')} does not exist in ${id} at ${revision}`);
        return;
      }
      sendFile(request, response, repository, file);
      return;
    }
    sendError(response, 404, 'NotFound', `no such route: ${path}`);
  };

  return (request, response) => {
    const started = performance.now();
    response.on('finish', () => options.log?.(`${request.method} ${request.url} ${response.statusCode} ${Math.round(performance.now() - started)} ms`));
    answer(request, response).catch((error: Error) => {
      if (!response.headersSent) sendError(response, 500, 'InternalError', error.message);
      else response.destroy(error);
    });
  };
}

export interface RunningMirror {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Starts a mirror; `port` 0 picks a free one. Binds to loopback unless told otherwise. */
export async function startMirrorServer(options: MirrorOptions & { host?: string; port?: number }): Promise<RunningMirror> {
  const server = createServer(createMirrorHandler(options));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shownHost}:${port}`,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
