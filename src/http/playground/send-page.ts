import type { Context } from 'hono';

/**
 * The Content-Security-Policy of a self-contained page: nothing from elsewhere, no framing, and only the page's own
 * inline scripts and styles, each allowed by its SHA-256 (a hash rather than a nonce: the pages never change, so
 * the policy is computed once). `connect-src 'self'` lets the playground call the functions.
 */
async function createPagePolicy(html: string): Promise<string> {
  const hashesOf = async (tag: string) => {
    const blocks = [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((match) => match[1]);
    const digests = await Promise.all(blocks.map((block) => crypto.subtle.digest('SHA-256', new TextEncoder().encode(block))));
    return digests.map((digest) => `'sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}'`).join(' ');
  };
  return [
    "default-src 'none'",
    `script-src ${await hashesOf('script')}`,
    `style-src ${await hashesOf('style')}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const policies = new Map<string, Promise<string>>();

/** Sends one of the interface pages with the headers that keep it from being framed, sniffed or injected into. */
export async function sendPage(c: Context, html: string): Promise<Response> {
  let policy = policies.get(html);
  if (!policy) policies.set(html, (policy = createPagePolicy(html)));
  c.header('Content-Security-Policy', await policy);
  c.header('X-Frame-Options', 'DENY');
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  return c.html(html);
}
