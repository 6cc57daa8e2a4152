/**
 * A set of API keys, held only as SHA-256 digests so that no object of the server (a log line, an error, a
 * debugger dump) can show a key. Checking a presented key hashes it too, then compares digests in constant time.
 */
export interface ApiKeySet {
  /** How many keys the set holds: for start-up logs, never the keys themselves. */
  readonly size: number;
  /** True when `presented` is one of the keys. Takes the same time whichever key matches, or none. */
  matches(presented: string): Promise<boolean>;
}

const encoder = new TextEncoder();

const digest = async (text: string) => new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));

/**
 * Every byte is compared whatever the earlier ones held. The inputs are fixed-length digests, so even a leak
 * of where they differ would tell an attacker about a hash, not about a key. Works on Node and in Workers alike.
 */
function equalInConstantTime(left: Uint8Array, right: Uint8Array): boolean {
  let difference = left.length ^ right.length;
  for (let index = 0; index < left.length; index++) difference |= left[index] ^ right[index % right.length];
  return difference === 0;
}

/** A set of API keys, kept as SHA-256 digests and compared in constant time. */
export function createApiKeySet(keys: readonly string[]): ApiKeySet {
  if (keys.length === 0) throw new Error('an API key set needs at least one key');
  // Hashed once, on first use: the raw keys are dropped as soon as their digests exist.
  let pending: readonly string[] | undefined = [...keys];
  let digests: Promise<Uint8Array[]> | undefined;
  const knownDigests = () => {
    digests ??= Promise.all(pending!.map(digest));
    pending = undefined;
    return digests;
  };
  return {
    size: keys.length,
    async matches(presented) {
      const [known, candidate] = await Promise.all([knownDigests(), digest(presented)]);
      let matched = 0;
      for (const entry of known) matched |= Number(equalInConstantTime(candidate, entry));
      return matched === 1;
    },
  };
}

/**
 * Keys from an environment variable or a key file: separated by newlines, commas or spaces; blank lines and
 * lines starting with `#` are skipped, so a file can say what each key is for.
 */
export function parseApiKeys(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((line) => !line.trimStart().startsWith('#'))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((key) => key.length > 0);
}

/** The key in `Authorization: Bearer <key>`, or undefined when the header is absent or of another scheme. */
export function readBearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  return match?.[1];
}
