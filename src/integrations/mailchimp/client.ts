import { subscriberHash } from '../../store/personal-data.js';
import { describeNetworkFailure } from '../network-failure.js';

/**
 * A client of the Mailchimp Marketing API v3 (INTEGRATIONS.md), just the member calls Stageflow
 * makes. It answers with what the call means for delivery rather than raw HTTP: done, absent (404),
 * retry (429, 5xx, a 403 without a body, a timeout or a network error: Mailchimp's signs of load)
 * or final (any other answer, with Mailchimp's own title, such as "Member In Compliance State").
 *
 * Mailchimp allows 10 simultaneous connections per account; the client never has more calls in
 * flight than `maxConnections` (default 10), queueing the rest, so one process cannot trip the
 * limit. Several worker processes share the account's limit: MAILCHIMP_CONCURRENCY sets each
 * worker's cap (default 3), so that workers × MAILCHIMP_CONCURRENCY ≤ 10.
 */

export type CallOutcome =
  | { kind: 'done'; status: number; memberStatus: string | null }
  | { kind: 'absent'; status: 404; error: string }
  | { kind: 'retry'; error: string }
  | { kind: 'final'; status: number; title: string; error: string };

export type MemberStatus = 'subscribed' | 'unsubscribed' | 'pending';

export interface MailchimpClientOptions {
  /** `<key>-<dc>`: the suffix names the data centre, which gives the base URL. */
  apiKey: string;
  /** Overrides `https://<dc>.api.mailchimp.com/3.0` (a proxy, or a local stand-in in tests). */
  baseUrl?: string;
  /** Per call; Mailchimp documents calls of up to 120 s, so the default waits that long. */
  timeoutMs?: number;
  maxConnections?: number;
  fetchImpl?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_CONNECTIONS = 10;

/** The data centre of an API key (`…-us14` is `us14`), or an error saying what is wrong with it. */
export function dataCentreOf(apiKey: string): string {
  const match = /-([a-z]+[0-9]+)$/.exec(apiKey.trim());
  if (!match?.[1]) throw new Error('a Mailchimp API key ends in its data centre, like "…-us14"');
  return match[1];
}

export class MailchimpClient {
  private readonly base: string;
  private readonly auth: string;
  private readonly timeoutMs: number;
  private readonly maxConnections: number;
  private readonly doFetch: typeof fetch;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(o: MailchimpClientOptions) {
    this.base = (o.baseUrl ?? `https://${dataCentreOf(o.apiKey)}.api.mailchimp.com/3.0`).replace(/\/+$/, '');
    // Basic auth with any user name: the key is the password.
    this.auth = `Basic ${Buffer.from(`stageflow:${o.apiKey}`).toString('base64')}`;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxConnections = o.maxConnections ?? MAX_CONNECTIONS;
    this.doFetch = o.fetchImpl ?? fetch;
    if (!(this.maxConnections >= 1)) throw new RangeError(`maxConnections must be >= 1, got ${this.maxConnections}`);
  }

  /** Subscribe-or-update: new members get `statusIfNew`; an existing member's status is left alone. */
  upsertMember(
    listId: string,
    email: string,
    o: { statusIfNew: MemberStatus; mergeFields: Record<string, string> },
  ): Promise<CallOutcome> {
    return this.call('PUT', memberPath(listId, subscriberHash(email)), {
      email_address: email,
      status_if_new: o.statusIfNew,
      ...(Object.keys(o.mergeFields).length > 0 ? { merge_fields: o.mergeFields } : {}),
    });
  }

  setStatus(listId: string, hash: string, status: MemberStatus): Promise<CallOutcome> {
    return this.call('PATCH', memberPath(listId, hash), { status });
  }

  setTags(listId: string, hash: string, tags: readonly { name: string; active: boolean }[]): Promise<CallOutcome> {
    return this.call('POST', `${memberPath(listId, hash)}/tags`, {
      tags: tags.map((t) => ({ name: t.name, status: t.active ? 'active' : 'inactive' })),
    });
  }

  /** A privacy erase: the member is gone and Mailchimp refuses the address on this list for good. */
  deletePermanently(listId: string, hash: string): Promise<CallOutcome> {
    return this.call('POST', `${memberPath(listId, hash)}/actions/delete-permanent`);
  }

  /** Mailchimp answers 404 alike for a missing member and a missing audience: this tells them apart. */
  audience(listId: string): Promise<CallOutcome> {
    return this.call('GET', `/lists/${encodeURIComponent(listId)}?fields=id`);
  }

  private async call(method: string, path: string, body?: unknown): Promise<CallOutcome> {
    await this.slot();
    try {
      return await this.send(method, path, body);
    } finally {
      this.release();
    }
  }

  private async send(method: string, path: string, body: unknown): Promise<CallOutcome> {
    const what = `${method} ${path}`;
    let res: Response;
    try {
      res = await this.doFetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: this.auth,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      return { kind: 'retry', error: `${what}: ${describeNetworkFailure(e, this.timeoutMs)}` };
    }
    const status = res.status;
    const text = await res.text().catch(() => '');
    if (status >= 200 && status < 300) return { kind: 'done', status, memberStatus: memberStatusOf(text) };
    const problem = parseProblem(text);
    // Mailchimp's details name the address ("x@y.com is in a compliance state"); an outbox error
    // outlives an erasure, so no address is kept in it.
    const said = problem ? ` ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}` : snippet(text);
    const error = `${what}: HTTP ${status}${withoutAddresses(said)}`;
    if (status === 404) return { kind: 'absent', status, error };
    // Mailchimp's load signals: 429, 5xx, and at extreme volume a 403 with no JSON body.
    if (status === 429 || status >= 500 || (status === 403 && !problem)) return { kind: 'retry', error };
    return { kind: 'final', status, title: problem?.title ?? `HTTP ${status}`, error };
  }

  private async slot(): Promise<void> {
    if (this.inFlight < this.maxConnections) {
      this.inFlight++;
      return;
    }
    // release() hands its slot straight to the next waiter, so inFlight never exceeds the cap.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }
}

function memberPath(listId: string, hash: string): string {
  return `/lists/${encodeURIComponent(listId)}/members/${hash}`;
}

/** The `status` of a member in an answer (PUT and PATCH return the member), if there is one. */
function memberStatusOf(text: string): string | null {
  try {
    const parsed: unknown = JSON.parse(text);
    const status = typeof parsed === 'object' && parsed !== null ? (parsed as { status?: unknown }).status : null;
    return typeof status === 'string' ? status : null;
  } catch {
    return null;
  }
}

interface Problem {
  title: string;
  detail: string;
}

/** Mailchimp's errors are problem+json: `title` is the stable part, `detail` the explanation. */
function parseProblem(text: string): Problem | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { title, detail } = parsed as Record<string, unknown>;
    if (typeof title !== 'string') return null;
    return { title, detail: typeof detail === 'string' ? detail : '' };
  } catch {
    return null;
  }
}

function withoutAddresses(text: string): string {
  return text.replace(/[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+/g, '[address]');
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '';
  return `: ${flat.length > 200 ? `${flat.slice(0, 200)}…` : flat}`;
}
