/** Where a server listens, said truthfully: the address it bound, and a URL this machine reaches it at. */
export interface ListenAddress {
  /** `host:port` as bound: `0.0.0.0:8787` listens on every IPv4 interface, `[::]:8787` on every interface. */
  bound: string;
  /** A URL that reaches the server from this machine: a wildcard address becomes the loopback one. */
  url: string;
}

const WILDCARD_LOOPBACK: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '[::1]' };

/** The bound address and a local URL of a server listening on `hostname` and `port`. */
export function describeListenAddress(hostname: string, port: number): ListenAddress {
  const shown = hostname.includes(':') ? `[${hostname}]` : hostname;
  const reachable = WILDCARD_LOOPBACK[hostname] ?? shown;
  return { bound: `${shown}:${port}`, url: `http://${reachable}:${port}` };
}

/** The start-up line: the bound address first, and the local URL where it differs (a wildcard address). */
export function formatListening(address: ListenAddress): string {
  const local = address.url.slice('http://'.length);
  return local === address.bound ? `honnx listening on ${address.url}` : `honnx listening on ${address.bound} (all interfaces; from this machine: ${address.url})`;
}
