import { HubError } from '../hub/hub-errors.ts';
import { requestFromHub, type HubResponse } from '../hub/hub-request.ts';
import { MAX_MANIFEST_BYTES, OCI_MANIFEST_MEDIA_TYPE, sha256Digest } from './model-manifest.ts';
import { isDigest } from './oci-reference.ts';
import { answerChallenge, describeCredentialSource, parseAuthChallenge, type RegistryCredentials } from './registry-auth.ts';

export interface RegistryClientOptions {
  /** `host[:port]`. */
  registry: string;
  /** Plain HTTP instead of HTTPS (oras's `--plain-http`), for a registry on loopback or a private network. */
  plainHttp?: boolean;
  credentials?: RegistryCredentials;
  /** Longest wait for an answer, and for each chunk of a blob. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface FetchedManifest {
  bytes: Uint8Array;
  /** The sha256 of the bytes, checked against the reference when it is a digest and against Docker-Content-Digest. */
  digest: string;
}

export interface RegistryClient {
  readonly registry: string;
  /** `http://host:port` or `https://host`. */
  readonly baseUrl: string;
  readonly credentialsSent: boolean;
  getManifest(repository: string, reference: string): Promise<FetchedManifest>;
  /** Stores a manifest under a tag (or its digest); returns the digest the registry reports, checked against ours. */
  putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType?: string): Promise<string>;
  hasBlob(repository: string, digest: string): Promise<boolean>;
  /** A monolithic upload: POST for an upload URL, then PUT the bytes with their digest. */
  uploadBlob(repository: string, digest: string, size: number, body: () => BodyInit): Promise<void>;
  /** Opens a blob from byte `start` (a Range request) for downloadFile; the body is cut off at `size` bytes. */
  openBlob(repository: string, digest: string, start: number, size: number): Promise<HubResponse>;
}

interface RegistryErrorBody {
  errors?: { code?: unknown; message?: unknown }[];
}

/** The registry's own error code and message (`MANIFEST_UNKNOWN: manifest unknown`), printable and short. */
async function readRegistryError(response: Response): Promise<string> {
  try {
    const text = (await response.text()).slice(0, 4096);
    const first = (JSON.parse(text) as RegistryErrorBody).errors?.[0];
    const describe = (value: unknown) => String(value ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
    return first ? ` (${describe(first.code)}: ${describe(first.message)})` : '';
  } catch {
    return '';
  }
}

function explainStatus(status: number, what: string, registry: string, detail: string, credentials: RegistryCredentials | undefined): HubError {
  if (status === 401) {
    return new HubError(
      'unauthorized',
      credentials
        ? `${registry} refused the credentials for ${what} (401)${detail}; check ${describeCredentialSource(credentials)}`
        : `${registry} requires authentication for ${what} (401)${detail}: set HONNX_REGISTRY_USERNAME and HONNX_REGISTRY_PASSWORD, or HONNX_REGISTRY_TOKEN, or docker login`,
      status,
    );
  }
  if (status === 403) return new HubError('forbidden', `${registry} forbids ${what} (403)${detail}: the credentials have no access to it`, status);
  if (status === 404) return new HubError('not_found', `${what} was not found on ${registry} (404)${detail}`, status);
  return new HubError('http', `${registry} answered ${status} for ${what}${detail}`, status);
}

/** A body stream that fails once it passes `limit` bytes, so that a registry cannot fill a disk past a layer's size. */
function limitBody(body: ReadableStream<Uint8Array>, limit: number, what: string): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) controller.error(new HubError('integrity', `${what} sent more than the ${limit} bytes its manifest lists; refused`));
        else controller.enqueue(chunk);
      },
    }),
  );
}

/**
 * A client for the parts of the OCI distribution API that pushing and pulling a model need. It answers a 401
 * once per scope (Basic, or the Bearer token flow) and keeps the header for the next requests.
 */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const { registry, credentials, timeoutMs } = options;
  const baseUrl = `${options.plainHttp ? 'http' : 'https'}://${registry}`;
  const authorizations = new Map<string, string>();
  const credentialsSent = credentials !== undefined;
  const scopeOf = (repository: string, push: boolean) => `repository:${repository}:${push ? 'pull,push' : 'pull'}`;

  const reachFailure = (error: unknown): Error => {
    if (error instanceof HubError && error.kind !== 'network') return error;
    const why = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    const hint = options.plainHttp ? '' : '; for a registry that speaks plain HTTP (loopback, a private network), pass --plain-http';
    return new HubError('network', `could not reach ${baseUrl}: ${why}${hint}`);
  };

  /** One request, answering a 401 challenge once. `send` is called again for the retry, so a body is made afresh. */
  async function withAuthorization<T extends { status: number; headers: Headers }>(
    scope: string,
    send: (authorization: string | undefined) => Promise<T>,
    discard: (answer: T) => Promise<void>,
  ): Promise<T> {
    let answer: T;
    try {
      answer = await send(authorizations.get(scope));
    } catch (error) {
      throw reachFailure(error);
    }
    if (answer.status !== 401) return answer;
    const challenge = parseAuthChallenge(answer.headers.get('www-authenticate'));
    await discard(answer);
    if (!challenge) return answer;
    const authorization = await answerChallenge({ challenge, credentials, scope, registry, timeoutMs });
    authorizations.set(scope, authorization);
    try {
      return await send(authorization);
    } catch (error) {
      throw reachFailure(error);
    }
  }

  const plainFetch = (scope: string, url: string, init: RequestInit & { headers?: Record<string, string> }) =>
    withAuthorization(
      scope,
      (authorization) =>
        fetch(url, {
          ...init,
          headers: { 'user-agent': 'honnx', ...init.headers, ...(authorization ? { authorization } : {}) },
          redirect: 'manual',
          signal: options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
        }),
      async (response) => void (await response.body?.cancel()),
    );

  const fail = async (response: Response, what: string): Promise<never> => {
    throw explainStatus(response.status, what, registry, await readRegistryError(response), credentials);
  };

  const openForReading = (scope: string, url: string, headers: Record<string, string>) =>
    withAuthorization(
      scope,
      async (authorization) => {
        const opened = await requestFromHub(url, { authorization, timeoutMs, headers, signal: options.signal });
        return Object.assign(opened, { status: opened.response.status, headers: opened.response.headers });
      },
      async (opened) => {
        opened.finish();
        await opened.response.body?.cancel();
      },
    );

  return {
    registry,
    baseUrl,
    credentialsSent,
    async getManifest(repository, reference) {
      const what = `manifest ${repository}:${reference}`;
      const opened = await openForReading(scopeOf(repository, false), `${baseUrl}/v2/${repository}/manifests/${encodeURIComponent(reference)}`, {
        accept: `${OCI_MANIFEST_MEDIA_TYPE}, application/vnd.oci.image.index.v1+json;q=0.5`,
      });
      const { response } = opened;
      try {
        if (response.status !== 200) return await fail(response, what);
        const declared = Number(response.headers.get('content-length') ?? 0);
        if (declared > MAX_MANIFEST_BYTES) throw new HubError('integrity', `${what} is ${declared} bytes; manifests over ${MAX_MANIFEST_BYTES} bytes are refused`);
        const bytes = new Uint8Array(await new Response(limitBody(response.body ?? new ReadableStream(), MAX_MANIFEST_BYTES, what)).arrayBuffer());
        const digest = sha256Digest(bytes);
        if (isDigest(reference) && digest !== reference) throw new HubError('integrity', `${what} has sha256 ${digest}, not the digest asked for; refused`);
        const announced = response.headers.get('docker-content-digest');
        if (announced && announced !== digest) throw new HubError('integrity', `${what}: the registry says its digest is ${announced.slice(0, 80)}, the bytes hash to ${digest}; refused`);
        return { bytes, digest };
      } finally {
        opened.finish();
      }
    },
    async putManifest(repository, reference, bytes, mediaType = OCI_MANIFEST_MEDIA_TYPE) {
      const what = `manifest ${repository}:${reference}`;
      const response = await plainFetch(scopeOf(repository, true), `${baseUrl}/v2/${repository}/manifests/${encodeURIComponent(reference)}`, {
        method: 'PUT',
        headers: { 'content-type': mediaType },
        body: bytes as Uint8Array<ArrayBuffer>,
      });
      if (response.status !== 201 && response.status !== 200) return fail(response, `pushing ${what}`);
      await response.body?.cancel();
      const digest = sha256Digest(bytes);
      const announced = response.headers.get('docker-content-digest');
      if (announced && announced !== digest) throw new HubError('integrity', `${registry} stored ${what} as ${announced.slice(0, 80)}, but its bytes hash to ${digest}`);
      return digest;
    },
    async hasBlob(repository, digest) {
      const response = await plainFetch(scopeOf(repository, true), `${baseUrl}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
      await response.body?.cancel();
      if (response.status === 200) return true;
      if (response.status === 404) return false;
      return fail(response, `blob ${digest} of ${repository}`);
    },
    async uploadBlob(repository, digest, size, body) {
      const scope = scopeOf(repository, true);
      const what = `uploading blob ${digest} to ${repository}`;
      const started = await plainFetch(scope, `${baseUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: { 'content-length': '0' } });
      if (started.status !== 202) return fail(started, what);
      await started.body?.cancel();
      const location = started.headers.get('location');
      if (!location) throw new HubError('http', `${registry} gave no upload location for ${what}`);
      const target = new URL(location, baseUrl);
      if (target.origin !== new URL(baseUrl).origin) throw new HubError('http', `${registry} sent the upload of ${digest} to another host (${target.origin}); refused`);
      target.searchParams.set('digest', digest);
      const finished = await plainFetch(scope, target.href, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: body(),
        duplex: 'half',
      } as RequestInit & { headers: Record<string, string> });
      if (finished.status !== 201) return fail(finished, what);
      await finished.body?.cancel();
    },
    async openBlob(repository, digest, start, size) {
      const what = `blob ${digest} of ${repository}`;
      const opened = await openForReading(scopeOf(repository, false), `${baseUrl}/v2/${repository}/blobs/${digest}`, start > 0 ? { range: `bytes=${start}-` } : {});
      const { status } = opened.response;
      if (status === 200 || status === 206 || (status === 416 && start > 0)) {
        if (!opened.response.body) return opened;
        const limited = new Response(limitBody(opened.response.body, status === 206 ? size - start : size, what), {
          status,
          headers: opened.response.headers,
        });
        return { ...opened, response: limited };
      }
      opened.finish();
      return fail(opened.response, what);
    },
  };
}
