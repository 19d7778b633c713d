import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import type { NodemailerError, SendMailOptions } from 'nodemailer';
import type { Deliverer, DeliveryContext, DeliveryResult, OutboxItem } from '../delivery.js';
import { composeMail, idToken, type MailMessage } from './compose.js';
import { recipientRefusal } from './smtp-reply.js';

/**
 * The mail deliverer: composes the message (compose.ts) and hands it to nodemailer.
 *
 * With an SMTP URL: a pooled SMTP transport. Outcomes: accepted by the server is 'sent' (detail: the
 * Message-ID, and any recipients the server refused while accepting others); a 4xx reply (and 503),
 * a refused or dropped connection, a timeout, a DNS or TLS failure, or a login failure is 'retry'
 * (nothing is wrong with the message; the worker backs off); any other 5xx reply (554 rejected, ...)
 * is 'dead', as is a message that cannot be composed. At RCPT TO only a refusal of the address
 * (5.1.x, 5.2.1, "user unknown") is 'dead', a bounce; a policy refusal (5.7.x: a block list, access
 * denied) or one that does not blame the address is 'retry' (smtp-reply.ts).
 * A configuration problem is retried rather than parked, since every message would die with it:
 * a refused login, 530 (the server wants a login SMTP_URL does not give), and a 5xx answer to the
 * greeting or to MAIL FROM, or a relay refusal, which say nothing about the recipient (the server
 * will not take mail from this sender or host). Those errors start with "SMTP configuration".
 *
 * Without one: each message is written as `<mailDir>/<outbox id token>.eml` (CRLF, as it would go
 * over SMTP), atomically (a dot-named temp file, fsync, rename), so a reader never sees half a file
 * and a resend overwrites the same file. File-system errors are 'retry'. The row is recorded as
 * 'kept' with the detail "not sent (SMTP_URL is unset): kept as <file>", so nobody takes it for
 * mail that left, and `outbox retry` queues it again once SMTP_URL is set. A row tried before is
 * not written but retried: it was being sent over SMTP by
 * a worker that had SMTP_URL, and a file would silently stand in for the real delivery.
 */

export interface MailDelivererOptions {
  /** SMTP_URL (smtp:// or smtps://); '' writes .eml files to mailDir instead. */
  smtpUrl: string;
  /** MAIL_FROM. */
  from: string;
  /** MAIL_DIR. */
  mailDir: string;
}

export interface MailDeliverer {
  deliver: Deliverer;
  /** Waits for the sends in flight, then closes the SMTP connections. Later deliveries are 'retry'. */
  close(): Promise<void>;
}

/** How a kept (.eml) message is recorded: delivered to a file, not sent to anyone. */
export const KEPT_PREFIX = 'not sent (SMTP_URL is unset): kept as ';
const NOT_WRITTEN =
  'SMTP_URL is unset: this message was tried before and is not written to a file; it waits for a worker with SMTP_URL';

const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000, dnsTimeout: 10_000 };
/** Codes nodemailer gives failures that say nothing about the message itself. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROXY', 'EMAXLIMIT']);
const LOGIN_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2']);

export function mailDeliverer(opts: MailDelivererOptions): MailDeliverer {
  const smtpUrl = opts.smtpUrl.trim();
  // An absolute folder, so the path kept on the row can be read from anywhere (`outbox message`).
  const send = smtpUrl === '' ? fileSender(resolve(opts.mailDir)) : smtpSender(smtpUrl);
  const inFlight = new Set<Promise<DeliveryResult>>();
  let closed = false;

  const deliver: Deliverer = (item: OutboxItem, ctx: DeliveryContext) => {
    if (closed) return Promise.resolve({ status: 'retry', error: 'the mail deliverer was closed' });
    let composed: ReturnType<typeof composeMail>;
    try {
      composed = composeMail(item, ctx, { from: opts.from });
    } catch (e) {
      // A bug, not the message's fault: keep the row and let the worker's backoff show it.
      return Promise.resolve({ status: 'retry', error: `could not compose the mail: ${errorText(e)}` });
    }
    if (composed.status === 'dead') return Promise.resolve(composed);
    // Tried before: over SMTP by a worker that had SMTP_URL (this one may have lost it on a
    // restart). Written to a file now, it would count as sent and never reach the recipient.
    if (smtpUrl === '' && item.attempts > 0) return Promise.resolve({ status: 'retry', error: NOT_WRITTEN });
    const p = send
      .send(composed.message)
      .then((r): DeliveryResult => (isBounce(r) && isContactMail(item) ? withBounce(r, item) : r))
      .catch((e: unknown): DeliveryResult => ({ status: 'retry', error: `mail delivery failed: ${errorText(e)}` }));
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  };

  return {
    deliver,
    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
      send.close();
    },
  };
}

/** A contact's mail refused at RCPT TO for good: the address bounced. */
const RECIPIENT_REFUSED = 'SMTP server refused the recipient';

function isBounce(r: DeliveryResult): r is Extract<DeliveryResult, { status: 'dead' }> {
  return r.status === 'dead' && r.error.startsWith(RECIPIENT_REFUSED);
}

function isContactMail(item: OutboxItem): boolean {
  return item.kind === 'email' && item.payload['recipient'] === 'contact' && typeof item.payload['to'] === 'string';
}

/** A hard bounce of contact mail: the lead learns it (a note for the rep, and no more mail to it). */
function withBounce(r: Extract<DeliveryResult, { status: 'dead' }>, item: OutboxItem): DeliveryResult {
  const template = typeof item.payload['template'] === 'string' ? ` (template ${item.payload['template']})` : '';
  const why = r.error.slice(RECIPIENT_REFUSED.length).replace(/^:\s*/, '');
  const note = `The mail server refused the contact's address for good${template}: ${why.slice(0, 300)}.`;
  return { ...r, followUp: { bounced: { email: String(item.payload['to']), note } } };
}

interface Sender {
  send(message: MailMessage): Promise<DeliveryResult>;
  close(): void;
}

/** What nodemailer takes; the Message-ID goes in its own option so nodemailer does not make one up. */
function mailOptions(m: MailMessage): SendMailOptions {
  const { 'Message-ID': messageId, ...headers } = m.headers;
  return {
    from: m.from,
    to: m.to,
    cc: m.cc,
    ...(m.replyTo ? { replyTo: m.replyTo } : {}),
    subject: m.subject,
    text: m.text,
    messageId,
    date: new Date(m.date),
    headers,
  };
}

// ---- SMTP ----

function smtpSender(smtpUrl: string): Sender {
  const secrets = passwordsOf(smtpUrl);
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: 3,
    // A connection that drops mid-send is retried once at once; after that the worker's backoff rules.
    maxRequeues: 1,
    ...TIMEOUTS,
  });
  const scrub = (s: string): string => secrets.reduce((acc, secret) => acc.split(secret).join('[redacted]'), s);
  return {
    async send(m) {
      try {
        const info = await transport.sendMail(mailOptions(m));
        const refused = info.rejected.map(String);
        const detail = refused.length > 0 ? `${info.messageId} (refused: ${refused.join(', ')})` : info.messageId;
        return { status: 'sent', detail };
      } catch (e) {
        const r = classifySmtpError(e);
        return { ...r, error: scrub(r.error) };
      }
    },
    close() {
      transport.close();
    },
  };
}

/** Maps a nodemailer SMTP error to retry or dead (see the comment at the top). */
export function classifySmtpError(e: unknown): Exclude<DeliveryResult, { status: 'sent' }> {
  const err = (e ?? {}) as NodemailerError;
  const code = typeof err.code === 'string' ? err.code : '';
  const text = errorText(e);
  if (LOGIN_CODES.has(code)) return { status: 'retry', error: `SMTP login failed (check SMTP_URL): ${text}` };
  if (typeof err.responseCode === 'number') {
    const c = err.responseCode;
    const permanent = err.permanent ?? (c >= 500 && c < 600 && c !== 503);
    if (!permanent) return { status: 'retry', error: `SMTP server deferred the message: ${text}` };
    const reply = typeof err.response === 'string' && err.response !== '' ? err.response : text;
    const config = configurationRefusal(c, err.command, reply);
    if (config !== null)
      return { status: 'retry', error: `SMTP configuration: ${config} (check ${CONFIG_HINT}): ${text}` };
    if (err.command === 'RCPT TO') return recipientRefused(c, reply, text);
    return { status: 'dead', error: `SMTP server refused the message: ${text}` };
  }
  if (TRANSIENT_CODES.has(code)) return { status: 'retry', error: `SMTP server unreachable: ${text}` };
  // No reply and no connection trouble: nodemailer refused the message before sending (an address
  // it cannot use, a bad header): the same message would fail the same way.
  if (code === 'EENVELOPE' || code === 'EMESSAGE' || code === 'EMAXRECIPIENTS')
    return { status: 'dead', error: `message not sendable: ${text}` };
  return { status: 'retry', error: `mail delivery failed: ${text}` };
}

/**
 * A permanent refusal at RCPT TO: a bounce (dead, and the contact's address marked) only when the
 * reply says the address is bad (smtp-reply.ts). A policy refusal (the sending host on a block list,
 * access denied) or one that does not say is retried with backoff, the address left alone: it is
 * about this sender, and lifts when the listing does.
 */
function recipientRefused(
  responseCode: number,
  reply: string,
  text: string,
): Exclude<DeliveryResult, { status: 'sent' }> {
  const why = recipientRefusal(responseCode, reply);
  if (why === 'address') return { status: 'dead', error: `${RECIPIENT_REFUSED}: ${text}` };
  const kind = why === 'policy' ? 'by policy (a block list, the sending host)' : 'without saying the address is bad';
  return { status: 'retry', error: `SMTP server turned the recipient away ${kind}, not a bounce: ${text}` };
}

const CONFIG_HINT = "SMTP_URL's user and password, and MAIL_FROM";

/**
 * Why a permanent SMTP answer is the setup's fault rather than the message's, or null. 530 asks for
 * a login; the greeting ('CONN') and MAIL FROM come before any recipient is named, so their refusal
 * is of this sender or host; "relay" refusals (550 5.7.1 relaying denied) mean the server does not
 * take mail for other domains from us, usually because we did not log in; but not one that blames
 * the address (Postfix's "5.1.1 User unknown in relay recipient table" is a bounce).
 */
function configurationRefusal(responseCode: number, command: unknown, reply: string): string | null {
  if (responseCode === 530) return 'the server requires a login';
  if (command === 'CONN' || command === 'EHLO' || command === 'HELO') return 'the server refused the connection';
  if (command === 'MAIL FROM') return 'the server refused the sender';
  if (/\brelay(ing)?\b/i.test(reply) && recipientRefusal(responseCode, reply) !== 'address')
    return 'the server refused to relay';
  return null;
}

/** The URL's password as written and decoded, so neither ends up in an error the UI shows. */
function passwordsOf(url: string): string[] {
  try {
    const raw = new URL(url).password;
    return [...new Set([raw, decodeURIComponent(raw)])].filter((p) => p !== '');
  } catch {
    return [];
  }
}

// ---- .eml files ----

function fileSender(mailDir: string): Sender {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    async send(m) {
      let raw: Buffer;
      try {
        const info = await composer.sendMail(mailOptions(m));
        if (!Buffer.isBuffer(info.message)) throw new Error('nodemailer returned a stream, not a buffer');
        raw = info.message;
      } catch (e) {
        return { status: 'dead', error: `could not build the message: ${errorText(e)}` };
      }
      const file = join(mailDir, emlFileName(m.outboxId));
      try {
        await writeAtomically(mailDir, file, raw);
      } catch (e) {
        return { status: 'retry', error: `could not write ${file}: ${errorText(e)}` };
      }
      return { status: 'sent', detail: `${KEPT_PREFIX}${file}`, kept: true };
    },
    close() {
      composer.close();
    },
  };
}

/**
 * `<token>.eml`, the token being the outbox id percent-encoded to [A-Za-z0-9_%-] (as in the
 * Message-ID); a very long one is cut and suffixed with a hash so names stay distinct.
 */
export function emlFileName(outboxId: string): string {
  const token = idToken(outboxId);
  if (token.length <= 180) return `${token}.eml`;
  const hash = createHash('sha256').update(token).digest('hex').slice(0, 16);
  return `${token.slice(0, 160)}-${hash}.eml`;
}

async function writeAtomically(dir: string, file: string, data: Buffer): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${randomBytes(6).toString('hex')}.${process.pid}.tmp`);
  try {
    const fh = await open(temp, 'wx', 0o640);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, file);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}

/**
 * The message a row was kept as (its detail says "not sent (SMTP_URL is unset): kept as <file>"),
 * as LF text; null when the row was not kept. Throws when the file cannot be read.
 */
export async function readKeptMessage(detail: string | null): Promise<{ file: string; text: string } | null> {
  if (!detail?.startsWith(KEPT_PREFIX)) return null;
  const file = detail.slice(KEPT_PREFIX.length);
  return { file, text: (await readFile(file, 'utf8')).replace(/\r\n/g, '\n') };
}
