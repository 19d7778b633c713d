import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip } from 'node:zlib';
import { sniffCharset } from './html-meta.js';
import { checkLiteralHost, guardedLookup, type AddressPolicy } from './ssrf-guard.js';

/**
 * Fetches a company's home page, defensively: the URL comes from user data and the server at the
 * other end is a stranger. One GET per hop, at most `maxRedirects` redirects (each hop checked
 * again: scheme, credentials, and the address actually connected to, see ssrf-guard.ts), one
 * deadline for the whole exchange (`timeoutMs`, every hop and the body), only text/html (or XHTML),
 * and a size cap on the decoded body, read as a stream and cut off there (the page's start, where
 * <head> is, is what enrichment reads), so a huge or endless page, or a compression bomb, costs at
 * most `maxBytes` of memory.
 *
 * Never throws: a site that is down, slow, refused or not HTML is an ordinary outcome,
 * `{ ok: false, why }`, and only the company fields go missing.
 */

export interface WebsiteFetchOptions {
  /** For the whole fetch: connect, every redirect hop and the body. */
  timeoutMs: number;
  /** Decoded body bytes read at most; a larger page is cut off there. */
  maxBytes: number;
  /** Redirects followed; one more is a failure. */
  maxRedirects: number;
  /** Which addresses may be connected to (isPublicAddress unless tests say otherwise). */
  addressAllowed: AddressPolicy;
  userAgent: string;
  /** Tests only, with their servers on random loopback ports: any port is fetched. */
  anyPort?: boolean;
}

export type WebsiteFetch = { ok: true; url: URL; html: string } | { ok: false; why: string };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);

export async function fetchWebsite(start: URL, opts: WebsiteFetchOptions, signal: AbortSignal): Promise<WebsiteFetch> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  let url = start;
  try {
    for (let hop = 0; ; hop++) {
      // The first URL is ours (https://<domain>/); the port rule is for where a redirect points.
      const refusal = refuseUrl(url, opts.anyPort === true || hop === 0);
      if (refusal) return { ok: false, why: `${where(url)}: ${refusal}` };
      const res = await get(url, opts, both);
      if (REDIRECTS.has(res.statusCode ?? 0)) {
        res.destroy();
        const location = res.headers.location;
        if (!location) return { ok: false, why: `${where(url)}: HTTP ${res.statusCode} redirect without a Location` };
        if (hop >= opts.maxRedirects) {
          return { ok: false, why: `${where(start)}: more than ${opts.maxRedirects} redirects` };
        }
        try {
          url = new URL(location, url);
        } catch {
          return { ok: false, why: `${where(url)}: redirect to ${JSON.stringify(location.slice(0, 200))}, not a URL` };
        }
        continue;
      }
      return await readPage(url, res, opts);
    }
  } catch (e) {
    if (timeout.aborted) return { ok: false, why: `${where(url)}: no complete answer within ${opts.timeoutMs} ms` };
    if (signal.aborted) return { ok: false, why: `${where(url)}: the enrichment ran out of time` };
    return { ok: false, why: `${where(url)}: ${describe(e)}` };
  }
}

/**
 * Scheme, credentials and port, before anything is sent: a redirect may point anywhere, and a web
 * page is on 80 or 443, so a redirect cannot make us probe a host's other services (mail,
 * databases, admin ports).
 */
function refuseUrl(url: URL, anyPort: boolean): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `scheme ${url.protocol} is not fetched`;
  if (url.username !== '' || url.password !== '') return 'a URL with credentials in it is not fetched';
  if (!anyPort && url.port !== '' && url.port !== '80' && url.port !== '443')
    return `port ${url.port} is not fetched: only 80 and 443`;
  return null;
}

function get(url: URL, opts: WebsiteFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  checkLiteralHost(url.hostname, opts.addressAllowed);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      headers: {
        'user-agent': opts.userAgent,
        accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.1',
        'accept-encoding': 'gzip, br',
      },
      lookup: guardedLookup(opts.addressAllowed),
      // A connection of its own: no pooled socket checked under another name is ever reused.
      agent: false,
      signal,
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
}

async function readPage(url: URL, res: IncomingMessage, opts: WebsiteFetchOptions): Promise<WebsiteFetch> {
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    res.destroy();
    return { ok: false, why: `${where(url)}: HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}` };
  }
  const type = parseContentType(res.headers['content-type']);
  if (!HTML_TYPES.has(type.mime)) {
    res.destroy();
    return { ok: false, why: `${where(url)}: not HTML (${type.mime || 'no content type'})` };
  }
  const encoding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const body = decoded(res, encoding);
  if (!body) {
    res.destroy();
    return { ok: false, why: `${where(url)}: content encoding ${encoding} is not supported` };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      // Past the cap, stop reading and use the start: the title and meta tags live in <head>.
      const room = opts.maxBytes - size;
      chunks.push(buf.byteLength > room ? buf.subarray(0, room) : buf);
      size += buf.byteLength;
      if (size >= opts.maxBytes) break;
    }
  } finally {
    body.destroy();
    res.destroy();
  }
  const bytes = Buffer.concat(chunks);
  return { ok: true, url, html: decodeHtml(bytes, type.charset) };
}

/** The body as decoded bytes; null for an encoding this does not speak (it asked for gzip and br only). */
function decoded(res: IncomingMessage, encoding: string): Readable | null {
  const noop = () => undefined;
  if (encoding === 'identity' || encoding === '') return res;
  if (encoding === 'gzip' || encoding === 'x-gzip') return pipeline(res, createGunzip(), noop);
  if (encoding === 'br') return pipeline(res, createBrotliDecompress(), noop);
  return null;
}

/** The header's charset, else a BOM, else a <meta charset> near the start, else UTF-8 (HTML's default today). */
function decodeHtml(bytes: Buffer, headerCharset: string | undefined): string {
  const bom = bytes.subarray(0, 3);
  const fromBom =
    bom[0] === 0xef && bom[1] === 0xbb && bom[2] === 0xbf
      ? 'utf-8'
      : bom[0] === 0xfe && bom[1] === 0xff
        ? 'utf-16be'
        : bom[0] === 0xff && bom[1] === 0xfe
          ? 'utf-16le'
          : undefined;
  const label = fromBom ?? headerCharset ?? sniffCharset(bytes.subarray(0, 1024).toString('latin1')) ?? 'utf-8';
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

function parseContentType(header: string | undefined): { mime: string; charset: string | undefined } {
  if (!header) return { mime: '', charset: undefined };
  const [mime = '', ...params] = header.split(';');
  let charset: string | undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'charset') {
      charset = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
    }
  }
  return { mime: mime.trim().toLowerCase(), charset: charset || undefined };
}

function where(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  if (e.name === 'BlockedAddressError') return e.message;
  // node's word for a body cut short of its Content-Length or last chunk.
  if (e.message === 'aborted') return 'the connection closed before the page was complete';
  if (typeof code === 'string' && !e.message.includes(code)) return `${code} ${e.message}`;
  return e.message || e.name;
}
