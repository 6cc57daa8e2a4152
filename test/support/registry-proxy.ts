import { createServer, request as forward, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does to one answer: pass it, cut it after some body bytes, or change its bytes. */
export type ProxyAction = { cutAfter: number } | { replace: (body: Buffer) => Buffer; dropHeaders?: string[] } | undefined;

export interface RegistryProxy {
  host: string;
  /** Decides per request; `undefined` passes the answer through untouched. */
  intercept?: (request: IncomingMessage) => ProxyAction;
  requests: { method: string; path: string; range?: string; status: number }[];
  close(): Promise<void>;
}

/** A loopback proxy in front of the real registry, to cut a connection mid-layer or alter bytes in transit. */
export async function startRegistryProxy(upstream: string): Promise<RegistryProxy> {
  const target = new URL(upstream);
  const proxy: RegistryProxy = {
    host: '',
    requests: [],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = createServer((incoming, outgoing) => {
    const action = proxy.intercept?.(incoming);
    const upstreamRequest = forward({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: target.host } }, (answer) => {
      proxy.requests.push({ method: incoming.method ?? '', path: incoming.url ?? '', range: incoming.headers.range, status: answer.statusCode ?? 0 });
      const headers = { ...answer.headers };
      if (headers.location) headers.location = headers.location.replace(target.host, proxy.host);
      if (action && 'replace' in action) {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = action.replace(Buffer.concat(chunks));
          for (const name of action.dropHeaders ?? []) delete headers[name];
          outgoing.writeHead(answer.statusCode ?? 502, { ...headers, 'content-length': String(body.byteLength) }).end(body);
        });
        return;
      }
      outgoing.writeHead(answer.statusCode ?? 502, headers);
      if (!action) {
        answer.pipe(outgoing);
        return;
      }
      let sent = 0;
      answer.on('data', (chunk: Buffer) => {
        const room = action.cutAfter - sent;
        if (room <= 0) return;
        outgoing.write(chunk.subarray(0, room));
        sent += Math.min(room, chunk.byteLength);
        if (sent >= action.cutAfter) {
          answer.destroy();
          // Let the written bytes reach the client, then break the connection mid-body.
          setTimeout(() => outgoing.socket?.destroy(), 20);
        }
      });
    });
    upstreamRequest.on('error', () => outgoing.destroy());
    incoming.pipe(upstreamRequest);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
