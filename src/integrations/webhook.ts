import { createHmac, timingSafeEqual } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import {
  BlockedAddressError,
  checkLiteralHost,
  guardedLookup,
  isPublicAddress,
  type AddressPolicy,
} from './enrichment/ssrf-guard.js';
import type { Deliverer, DeliveryContext, DeliveryResult, OutboxItem } from './delivery.js';
import { describeNetworkFailure } from './network-failure.js';

/**
 * Webhooks: an automation's `webhook: { url }` becomes a signed JSON POST to that URL.
 *
 * The body is {id, type: 'stageflow.automation', event, cause, lead: {id, pipeline, stage, status,
 * owner}, occurredAt, attempt}. `id` is the outbox row's id, stable across retries, and is also
 * sent as `Idempotency-Key`: receivers de-duplicate on it, since a delivery can arrive twice.
 *
 * Signing follows Stripe and Standard Webhooks: the header
 *
 *   Stageflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * A receiver recomputes the HMAC over the raw bytes it received (before any JSON parsing), compares
 * it in constant time, and rejects a timestamp more than a few minutes away from its own clock so
 * a captured request cannot be replayed later. verifyWebhookSignature() below does exactly that and
 * depends on node:crypto only, so it can be copied into a receiver. More than one v1= may appear
 * (while a secret is rotated); one match is enough.
 *
 * Outcomes: 2xx is sent; 408, 409, 425, 429, 5xx, network errors and timeouts are retried; any
 * other answer (other 4xx, a redirect, which is never followed) is dead, as is a URL that is not
 * http(s) or a missing secret: nothing leaves unsigned. A receiver that is not at a public address
 * (loopback, private, link-local such as 169.254.169.254) is dead too unless allowPrivateAddresses.
 */

export const SIGNATURE_HEADER = 'Stageflow-Signature';
export const WEBHOOK_TYPE = 'stageflow.automation';
const DEFAULT_TIMEOUT_MS = 10_000;
const RETRYABLE = new Set([408, 409, 425, 429]);
const MISSING_SECRET = 'WEBHOOK_SECRET is not set: set it and replay the dead rows';

export interface WebhookOptions {
  secret: string;
  /** Per attempt, for the whole exchange (connect, headers and body); default 10 s. */
  timeoutMs?: number;
  /**
   * Receivers on loopback, private or link-local addresses are refused unless this is true
   * (WEBHOOK_ALLOW_PRIVATE): a process file must not make the server call its own network
   * (cloud metadata, internal admin ports). Checked on the address connected to, as enrichment does.
   */
  allowPrivateAddresses?: boolean;
  /** Which addresses the guarded transport connects to; default public ones only (tests widen it). */
  addressAllowed?: AddressPolicy;
  /** Replaces the transport (tests): no address check then. */
  fetchImpl?: typeof fetch;
}

const PRIVATE_HINT =
  'webhooks go to public addresses only: set WEBHOOK_ALLOW_PRIVATE=true for a receiver on your own network and replay';

export function webhookDeliverer(opts: WebhookOptions): Deliverer {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
  const secret = opts.secret;
  const doFetch =
    opts.fetchImpl ??
    (opts.allowPrivateAddresses === true ? fetch : guardedPost(opts.addressAllowed ?? isPublicAddress));
  /** Belt and braces: whatever a server or the network library says, the secret is never echoed. */
  const scrub = (result: DeliveryResult): DeliveryResult =>
    result.status !== 'sent' && secret !== '' && result.error.includes(secret)
      ? { ...result, error: result.error.split(secret).join('[redacted]') }
      : result;

  const deliver = async (item: OutboxItem, ctx: DeliveryContext): Promise<DeliveryResult> => {
    if (secret.trim() === '') return { status: 'dead', error: MISSING_SECRET };
    const target = parseTarget(item.payload['url']);
    if (!target.ok) return { status: 'dead', error: target.error };
    const url = target.url;
    const where = `${url.origin}${url.pathname}`;

    const body = JSON.stringify(webhookBody(item, ctx));
    const t = Math.floor(ctx.now / 1000);
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Stageflow-Webhooks/1',
          'idempotency-key': item.id,
          [SIGNATURE_HEADER]: `t=${t},v1=${sign(secret, t, body)}`,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      if (e instanceof BlockedAddressError || (e instanceof Error && e.cause instanceof BlockedAddressError)) {
        const why = e instanceof BlockedAddressError ? e.message : (e.cause as Error).message;
        return { status: 'dead', error: `POST ${where}: ${why.replace(/: not fetched$/, '')}; ${PRIVATE_HINT}` };
      }
      // fetch refuses ports reserved for other protocols (the spec's "bad port" list): no retry helps.
      if (e instanceof Error && e.cause instanceof Error && e.cause.message === 'bad port') {
        return {
          status: 'dead',
          error: `POST ${where}: fetch refuses port ${url.port}, reserved for another protocol`,
        };
      }
      return { status: 'retry', error: `POST ${where}: ${describeNetworkFailure(e, timeoutMs)}` };
    }

    const code = res.status;
    if (code >= 200 && code < 300) {
      await discard(res);
      return { status: 'sent', detail: `HTTP ${code}` };
    }
    if (code >= 300 && code < 400) {
      await discard(res);
      const location = res.headers.get('location');
      return {
        status: 'dead',
        error:
          `POST ${where}: HTTP ${code} redirect${location ? ` to ${location}` : ''} not followed ` +
          '(webhooks never follow redirects): point the automation at the final URL and replay',
      };
    }
    const snippet = await readSnippet(res);
    const error = `POST ${where}: HTTP ${code}${res.statusText ? ` ${res.statusText}` : ''}${snippet ? `: ${snippet}` : ''}`;
    return RETRYABLE.has(code) || code >= 500 ? { status: 'retry', error } : { status: 'dead', error };
  };
  return async (item, ctx) => scrub(await deliver(item, ctx));
}

/**
 * The JSON a receiver gets. `lead` is the lead as of the event that queued the webhook (the stage
 * entered, the status and owner then), whenever it is delivered: a retry an hour later still
 * announces the stage that was entered. `current` is the lead as it stands at delivery, null once
 * it is gone. Rows queued before the payload carried the pipeline and owner take those from now.
 */
function webhookBody(item: OutboxItem, ctx: DeliveryContext): Record<string, unknown> {
  const p = item.payload;
  const now = ctx.lead
    ? {
        id: ctx.lead.id,
        pipeline: ctx.lead.pipeline,
        stage: ctx.lead.stage,
        status: ctx.lead.status,
        owner: ctx.lead.owner,
      }
    : null;
  const asOf = (key: 'pipeline' | 'stage' | 'status' | 'owner'): string | null =>
    key in p ? str(p[key]) : (now?.[key] ?? null);
  return {
    id: item.id,
    type: WEBHOOK_TYPE,
    event: str(p['event']),
    cause: str(p['cause']),
    lead: {
      id: str(p['lead']) ?? item.lead,
      pipeline: asOf('pipeline'),
      stage: asOf('stage'),
      status: asOf('status'),
      owner: asOf('owner'),
    },
    current: now,
    occurredAt: new Date(item.createdAt).toISOString(),
    attempt: item.attempts + 1,
  };
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function parseTarget(raw: unknown): { ok: true; url: URL } | { ok: false; error: string } {
  if (typeof raw !== 'string' || raw === '') return { ok: false, error: 'webhook payload has no url' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, error: `webhook url ${JSON.stringify(raw)} does not parse as a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, error: `webhook url scheme ${url.protocol} is not allowed: only http and https` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, error: `webhook url ${url.origin}${url.pathname} has credentials in it, which fetch refuses` };
  }
  return { ok: true, url };
}

const NULL_BODY = new Set([101, 204, 205, 304]);

/** The Fetch standard's "bad ports" (other protocols' ports), which fetch refuses: so does this transport. */
const BAD_PORTS = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * The POST for receivers that must be public: node:http(s) with a lookup that refuses non-public
 * addresses on the very address the socket connects to (no second resolution, so DNS rebinding
 * cannot slip through; ssrf-guard.ts), answered as a fetch Response for the code above.
 */
const guardedPost = (allowed: AddressPolicy) =>
  ((url: URL, init: RequestInit): Promise<Response> => {
    if (url.port !== '' && BAD_PORTS.has(Number(url.port)))
      return Promise.reject(new TypeError('fetch failed', { cause: new Error('bad port') }));
    checkLiteralHost(url.hostname, allowed);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, {
        method: 'POST',
        headers: init.headers as Record<string, string>,
        lookup: guardedLookup(allowed),
        // A connection of its own: no pooled socket checked under another name is ever reused.
        agent: false,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      req.once('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers))
          if (v !== undefined) for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
        const nullBody = NULL_BODY.has(status);
        if (nullBody) res.resume();
        try {
          resolve(
            new Response(nullBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
              status,
              statusText: res.statusMessage ?? '',
              headers,
            }),
          );
        } catch (e) {
          res.destroy();
          reject(new Error(`unusable answer (HTTP ${status})`, { cause: e }));
        }
      });
      req.once('error', reject);
      req.end(typeof init.body === 'string' ? init.body : undefined);
    });
  }) as typeof fetch;

function sign(secret: string, t: number, rawBody: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');
}

/** Frees the connection without reading what may be a large or endless body. */
async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // Nothing to free.
  }
}

/** The start of an error answer, for the dead/retry message; at most 4 KiB is read. */
async function readSnippet(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < 4096) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut off or timed out: what arrived is enough.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * Checks a Stageflow-Signature header against the raw request body (the exact bytes received,
 * before any JSON parsing). True when some v1= is the HMAC-SHA256 of "<t>.<body>" under `secret`
 * and t is within toleranceSeconds of nowSeconds. Copy this into a receiver as it is.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  rawBody: string | Uint8Array,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!secret || !header) return false;
  let t: number | null = null;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (t !== null || !/^\d{1,15}$/.test(value)) return false;
      t = Number(value);
    } else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) {
      candidates.push(value);
    }
  }
  if (t === null || candidates.length === 0) return false;
  if (!(Math.abs(nowSeconds - t) <= toleranceSeconds)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  let ok = false;
  for (const candidate of candidates) {
    if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) ok = true;
  }
  return ok;
}
