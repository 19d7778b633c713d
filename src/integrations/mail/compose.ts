import { z } from 'zod';
import { optedOut } from '../../domain/consent.js';
import type { Process, User } from '../../domain/process-schema.js';
import type { DeliveryContext, LeadSnapshot, OutboxItem } from '../delivery.js';
import { renderTemplate, stageName, usesUnsubscribeUrl } from './render.js';

/**
 * Turns an outbox row into a mail message, or says why it can never become one (a 'dead' reason).
 * Pure: the transport (SMTP or .eml files) is deliver.ts's business.
 *
 * Kinds: 'email' (a process template to the contact, owner or manager), and the notifications to
 * users 'congratulate', 'task.reminder', 'task.overdue' (to the assignee, cc their manager) and
 * 'stage.stalled' (to the owner, cc their manager). Users are looked up in the current process.
 *
 * Every message carries a Message-ID derived from the outbox id alone (and the sender's domain), so
 * a resend after a crash is the same message to the receiver, and `Auto-Submitted: auto-generated`
 * (RFC 3834) so out-of-office robots do not answer. Marketing templates add `List-Unsubscribe`:
 * a mailto to the sender, and, when the worker knows the server's public address (ctx.links), first
 * a one-click HTTPS link (RFC 8058, with `List-Unsubscribe-Post`) that is also the body's footer.
 */

export const MAIL_KINDS = ['email', 'congratulate', 'task.reminder', 'task.overdue', 'stage.stalled'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

export interface MailAddress {
  /** Display name; '' for none. */
  name: string;
  address: string;
}

export interface MailMessage {
  /** The outbox row's id, which the Message-ID (and the .eml file name) derive from. */
  outboxId: string;
  /** MAIL_FROM as configured, e.g. 'Stageflow <stageflow@example.com>'. */
  from: string;
  to: MailAddress[];
  cc: MailAddress[];
  replyTo: MailAddress | null;
  subject: string;
  text: string;
  /**
   * Always has 'Message-ID'; plus 'Auto-Submitted', 'X-Stageflow-Outbox-Id', and for marketing
   * 'List-Unsubscribe' (and 'List-Unsubscribe-Post' with a one-click link).
   */
  headers: Record<string, string>;
  /** The Date header: the delivery time. */
  date: number;
}

export type Composed = { status: 'ready'; message: MailMessage } | { status: 'dead'; error: string };

/** Links only the server can make (they are signed with its key); see integrations/index.ts. */
export interface MailLinks {
  /** The one-click unsubscribe URL for an address: https://…/unsubscribe/TOKEN. */
  unsubscribeUrl(address: string): string;
}

/** A delivery's context, with the links the worker adds when PUBLIC_URL and UNSUBSCRIBE_SECRET are set. */
export interface MailDeliveryContext extends DeliveryContext {
  links?: MailLinks | undefined;
}

export interface ComposeOptions {
  /** MAIL_FROM: 'Name <address>' or a bare address. */
  from: string;
}

const ref = z.string().min(1);
const payloads = {
  email: z.object({
    template: ref,
    to: z.string(),
    recipient: z.enum(['contact', 'owner', 'manager']),
    marketing: z.boolean().default(false),
  }),
  congratulate: z.object({ user: ref, message: z.string() }),
  'task.reminder': z.object({ task: ref, title: z.string(), user: ref.nullable(), dueAt: z.number() }),
  'task.overdue': z.object({
    task: ref,
    title: z.string(),
    user: ref.nullable(),
    manager: ref.nullable().default(null),
    dueAt: z.number(),
  }),
  'stage.stalled': z.object({
    stage: ref,
    user: ref.nullable(),
    manager: ref.nullable().default(null),
    since: z.number(),
  }),
} satisfies Record<MailKind, z.ZodType>;

const DAY = 86_400_000;
const dead = (error: string): Composed => ({ status: 'dead', error });

export function composeMail(item: OutboxItem, ctx: MailDeliveryContext, opts: ComposeOptions): Composed {
  if (!isMailKind(item.kind)) return dead(`not a mail effect: ${item.kind}`);
  const lead = ctx.lead;
  if (!lead) return dead(`lead ${item.lead} no longer exists (erased): nothing to mail about it`);
  const sender = senderAddress(opts.from);
  const base = {
    outboxId: item.id,
    from: opts.from,
    date: ctx.now,
    headers: {
      'Message-ID': messageIdFor(item.id, sender),
      'Auto-Submitted': 'auto-generated',
      'X-Stageflow-Outbox-Id': item.id.replace(/[\r\n]+/g, ' '),
    },
  };
  const c = new Composer(item, ctx.process, lead, ctx.now, ctx.links ?? null);
  let parts: Parts | string;
  switch (item.kind) {
    case 'email': {
      const p = payloads.email.safeParse(item.payload);
      if (!p.success) return malformed(item, p.error);
      parts = c.email(p.data, sender);
      break;
    }
    case 'congratulate': {
      const p = payloads.congratulate.safeParse(item.payload);
      if (!p.success) return malformed(item, p.error);
      parts = c.congratulate(p.data);
      break;
    }
    case 'task.reminder': {
      const p = payloads['task.reminder'].safeParse(item.payload);
      if (!p.success) return malformed(item, p.error);
      parts = c.task({ ...p.data, manager: null }, false);
      break;
    }
    case 'task.overdue': {
      const p = payloads['task.overdue'].safeParse(item.payload);
      if (!p.success) return malformed(item, p.error);
      parts = c.task(p.data, true);
      break;
    }
    case 'stage.stalled': {
      const p = payloads['stage.stalled'].safeParse(item.payload);
      if (!p.success) return malformed(item, p.error);
      parts = c.stalled(p.data);
      break;
    }
  }
  if (typeof parts === 'string') return dead(parts);
  return {
    status: 'ready',
    message: {
      ...base,
      to: parts.to,
      cc: parts.cc ?? [],
      replyTo: parts.replyTo ?? null,
      subject: oneLine(parts.subject),
      text: parts.text,
      headers: { ...base.headers, ...parts.headers },
    },
  };
}

export function isMailKind(kind: string): kind is MailKind {
  return (MAIL_KINDS as readonly string[]).includes(kind);
}

/**
 * The outbox id as a token of [A-Za-z0-9_%-] only: percent-encoding of every other character
 * (':' -> %3A, '.' -> %2E). Reversible, so distinct ids stay distinct; valid as the left part of
 * a Message-ID (RFC 5322 dot-atom-text) and as a file name on any file system.
 */
export function idToken(id: string): string {
  // '' would make an invalid msg-id; a lone '%' is never the encoding of anything else.
  if (id === '') return '%';
  return encodeURIComponent(id).replace(/[.!~*'()]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `<token@domain>`: the domain of the sender's address when it is a plain host name, else 'stageflow'. */
export function messageIdFor(outboxId: string, sender: string | null): string {
  const domain = sender?.slice(sender.lastIndexOf('@') + 1) ?? '';
  const host = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(domain) ? domain : 'stageflow';
  return `<${idToken(outboxId)}@${host}>`;
}

/** The address in 'Name <address>' or a bare address; null if neither looks like one. */
export function senderAddress(from: string): string | null {
  const angle = /<([^<>]*)>\s*$/.exec(from);
  const candidate = (angle ? angle[1] : from)?.trim() ?? '';
  return isAddress(candidate) ? candidate : null;
}

/**
 * A deliberately plain check: one '@', something either side, no spaces, separators or brackets.
 * It refuses what would change meaning in a header (a ',' adds a recipient) rather than judging
 * deliverability; the receiving server does that.
 */
export function isAddress(s: string): boolean {
  return /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+$/.test(s);
}

// ---- the kinds ----

interface Parts {
  to: MailAddress[];
  cc?: MailAddress[];
  replyTo?: MailAddress | null;
  subject: string;
  text: string;
  headers?: Record<string, string>;
}

class Composer {
  constructor(
    private readonly item: OutboxItem,
    private readonly p: Process,
    private readonly lead: LeadSnapshot,
    private readonly now: number,
    private readonly links: MailLinks | null,
  ) {}

  email(data: z.infer<(typeof payloads)['email']>, sender: string | null): Parts | string {
    const template = this.p.templates[data.template];
    if (!template) return `unknown email template "${data.template}" (not in the current process)`;
    const to = data.to.trim();
    if (!isAddress(to)) return `not a usable ${data.recipient} address: ${JSON.stringify(data.to)}`;
    const marketing = data.marketing || template.marketing;
    if (marketing && optedOut(this.lead.fields))
      return `the contact unsubscribed from marketing mail; template "${data.template}" not sent`;
    const unsubscribeUrl = marketing && this.links ? this.links.unsubscribeUrl(to) : null;
    const render = { process: this.p, lead: this.lead, unsubscribeUrl };
    const owner = this.user(this.lead.owner);
    const headers = marketing ? unsubscribeHeaders(unsubscribeUrl, sender) : {};
    const body = renderTemplate(template.body, render);
    return {
      to: [{ name: data.recipient === 'contact' ? this.contactName() : this.nameOf(to), address: to }],
      // The contact's replies go to the owner: templates say "just reply".
      replyTo:
        data.recipient === 'contact' && owner?.email && isAddress(owner.email)
          ? { name: owner.name, address: owner.email }
          : null,
      subject: renderTemplate(template.subject, render),
      text: unsubscribeUrl && !usesUnsubscribeUrl(template.body) ? withFooter(body, unsubscribeUrl) : body,
      headers,
    };
  }

  congratulate(data: z.infer<(typeof payloads)['congratulate']>): Parts | string {
    const user = this.recipient(data.user, 'the user to congratulate');
    if (typeof user === 'string') return user;
    const message = data.message.trim() || `Well done: ${this.leadName()}`;
    return {
      to: [user.to],
      subject: message,
      text: [`Hi ${user.user.name},`, '', message, '', this.leadLine(), ''].join('\n'),
    };
  }

  task(
    data: { task: string; title: string; user: string | null; manager: string | null; dueAt: number },
    overdue: boolean,
  ): Parts | string {
    if (data.user === null) return `task ${data.task} has no assignee to remind`;
    const user = this.recipient(data.user, 'the assignee');
    if (typeof user === 'string') return user;
    const cc = overdue ? this.ccManager(data.manager, user.to) : null;
    const name = this.leadName();
    const when = formatTime(data.dueAt, user.user.timezone ?? this.p.organisation.timezone);
    const lines = overdue
      ? [
          `Hi ${user.user.name},`,
          '',
          `the task "${data.title}" for ${name} was due by ${when} and is still open.`,
          'Please do it, or reschedule it if the plan changed.',
        ]
      : [`Hi ${user.user.name},`, '', `your task "${data.title}" for ${name} is due by ${when}.`];
    if (cc) lines.push('', `${cc.name} is copied as your manager.`);
    lines.push('', this.leadLine(), '');
    return {
      to: [user.to],
      cc: cc ? [cc] : [],
      subject: `${overdue ? 'Overdue' : 'Task due'}: ${data.title} (${name})`,
      text: lines.join('\n'),
    };
  }

  stalled(data: z.infer<(typeof payloads)['stage.stalled']>): Parts | string {
    if (data.user === null) return `lead ${this.lead.id} has no owner to tell that it stalled`;
    const user = this.recipient(data.user, 'the owner');
    if (typeof user === 'string') return user;
    const cc = this.ccManager(data.manager, user.to);
    const name = this.leadName();
    const stage = stageName(this.p, this.lead.pipeline, data.stage);
    const days = Math.max(0, Math.floor((this.now - data.since) / DAY));
    const since = formatDate(data.since, user.user.timezone ?? this.p.organisation.timezone);
    const lines = [
      `Hi ${user.user.name},`,
      '',
      `${name} has been in ${stage} since ${since} (${days} ${days === 1 ? 'day' : 'days'}) without moving on.`,
      'Time for a next step, or for a decision to close it.',
    ];
    if (cc) lines.push('', `${cc.name} is copied as your manager.`);
    lines.push('', this.leadLine(), '');
    return { to: [user.to], cc: cc ? [cc] : [], subject: `Stalled: ${name} in ${stage}`, text: lines.join('\n') };
  }

  // ---- helpers ----

  private user(id: string | null): User | undefined {
    return id === null ? undefined : this.p.users.find((u) => u.id === id);
  }

  /** A user who must get the mail: dead reasons when unknown or without a usable address. */
  private recipient(id: string, role: string): { user: User; to: MailAddress } | string {
    const user = this.user(id);
    if (!user) return `${role} "${id}" is not a user of the current process`;
    if (!user.email) return `${role} "${id}" (${user.name}) has no email address in the process`;
    if (!isAddress(user.email)) return `${role} "${id}" has an unusable email address: ${user.email}`;
    return { user, to: { name: user.name, address: user.email } };
  }

  /** The manager in copy, when there is one with an address other than the main recipient's. */
  private ccManager(id: string | null, to: MailAddress): MailAddress | null {
    const m = this.user(id);
    if (!m?.email || !isAddress(m.email) || m.email.toLowerCase() === to.address.toLowerCase()) return null;
    return { name: m.name, address: m.email };
  }

  private nameOf(address: string): string {
    return this.p.users.find((u) => u.email?.toLowerCase() === address.toLowerCase())?.name ?? '';
  }

  private contactName(): string {
    const f = this.lead.fields;
    return [f['first_name'], f['last_name']].filter((v) => typeof v === 'string' && v.trim() !== '').join(' ');
  }

  private leadName(): string {
    const f = this.lead.fields;
    for (const v of [f['name'], f['company']]) {
      if (typeof v === 'string' && v.trim() !== '') return v.trim();
    }
    return this.contactName() || this.lead.id;
  }

  private leadLine(): string {
    const stage = stageName(this.p, this.lead.pipeline, this.lead.stage);
    const status = this.lead.status === 'open' ? `stage ${stage}` : `${this.lead.status} in ${stage}`;
    return `Lead: ${this.leadName()} (${this.lead.id}), ${status}.`;
  }
}

/**
 * RFC 2369's List-Unsubscribe, the HTTPS link first (receivers use the first they can), and RFC
 * 8058's List-Unsubscribe-Post, which tells them a POST to that link unsubscribes in one click.
 */
function unsubscribeHeaders(url: string | null, sender: string | null): Record<string, string> {
  const targets = [...(url ? [`<${url}>`] : []), ...(sender ? [`<mailto:${sender}?subject=unsubscribe>`] : [])];
  const headers: Record<string, string> = {};
  if (targets.length > 0) headers['List-Unsubscribe'] = targets.join(', ');
  if (url) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  return headers;
}

/** The footer every marketing mail with a link ends with, unless its template placed the link itself. */
function withFooter(body: string, url: string): string {
  return `${body.replace(/\s+$/, '')}\n\n-- \nTo stop receiving these emails, unsubscribe here: ${url}\n`;
}

function malformed(item: OutboxItem, error: z.ZodError): Composed {
  const issue = error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'payload';
  return dead(`malformed ${item.kind} payload: ${where}: ${issue?.message ?? 'invalid'}`);
}

/** Subjects are one header line: no line breaks, collapsed spaces, at most 200 characters. */
function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

function formatTime(ms: number, timeZone: string): string {
  return format(ms, timeZone, { dateStyle: 'medium', timeStyle: 'short' });
}

function formatDate(ms: number, timeZone: string): string {
  return format(ms, timeZone, { dateStyle: 'medium' });
}

/** "12 Mar 2026, 14:00 (Europe/Berlin)"; falls back to UTC when the zone is unknown to Intl. */
function format(ms: number, timeZone: string, style: Intl.DateTimeFormatOptions): string {
  let zone = timeZone;
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat('en-GB', { ...style, timeZone: zone });
  } catch {
    zone = 'UTC';
    f = new Intl.DateTimeFormat('en-GB', { ...style, timeZone: zone });
  }
  return Number.isFinite(ms) ? `${f.format(ms)} (${zone})` : 'at an unknown time';
}
