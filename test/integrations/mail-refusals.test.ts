import { afterEach, describe, expect, it } from 'vitest';
import { parseProcess } from '../../src/domain/process-load.js';
import type { DeliveryContext, OutboxItem } from '../../src/integrations/delivery.js';
import { classifySmtpError, mailDeliverer } from '../../src/integrations/mail/deliver.js';
import { enhancedStatus, recipientRefusal } from '../../src/integrations/mail/smtp-reply.js';
import { startSmtp, smtpRefusal } from '../support/smtp.js';

/**
 * A refusal at RCPT TO is a bounce (the contact's address marked, later mail cancelled) only when
 * it blames the address; a policy refusal (the sending host on a block list, access denied) is
 * about this sender and is retried, the contact left alone.
 */

const BLOCKLISTED = '5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org';
const ACCESS_DENIED = '5.7.1 <ann@example.com>: Recipient address rejected: Access denied';
const BANNED_IP = '5.7.606 Access denied, banned sending IP [203.0.113.5]';
const USER_UNKNOWN = '5.1.1 <ann@example.com>: Recipient address rejected: User unknown';
/** Postfix on a relay host (a backup MX, a mail gateway): a bounce, though it names the relay. */
const RELAY_TABLE = '5.1.1 <ann@example.com>: Recipient address rejected: User unknown in relay recipient table';

describe('enhancedStatus', () => {
  it('reads the code after the basic one, or qmail-style at the end, when the classes agree', () => {
    expect(enhancedStatus('550 5.1.1 User unknown')).toEqual({ klass: 5, subject: 1, detail: 1 });
    expect(enhancedStatus('550-5.7.606 Access denied')).toEqual({ klass: 5, subject: 7, detail: 606 });
    expect(enhancedStatus('550 5.1.10 RESOLVER.ADR.RecipientNotFound')).toEqual({ klass: 5, subject: 1, detail: 10 });
    expect(enhancedStatus("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)")).toEqual({
      klass: 5,
      subject: 7,
      detail: 1,
    });
    expect(enhancedStatus('550 4.1.1 odd')).toBeNull();
    expect(enhancedStatus('550 User unknown')).toBeNull();
    expect(enhancedStatus('550 5.1.1.2 not a code')).toBeNull();
    expect(enhancedStatus('User unknown 5.1.1')).toBeNull();
  });
});

describe('recipientRefusal', () => {
  it.each([
    [550, `550 ${USER_UNKNOWN}`, 'address'],
    [550, '550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found', 'address'],
    [550, '550 5.1.2 Host unknown', 'address'],
    [550, '550 5.2.1 Mailbox disabled', 'address'],
    // The enhanced code wins over the words.
    [550, '550 5.1.1 Blocked: no such user', 'address'],
    [554, `554 ${BLOCKLISTED}`, 'policy'],
    [550, `550 ${ACCESS_DENIED}`, 'policy'],
    [550, `550 ${BANNED_IP}`, 'policy'],
    [550, '550 5.7.1 Unknown user', 'policy'],
    [552, '552 5.2.2 Mailbox full', 'other'],
    [550, '550 5.4.1 Recipient address rejected: Access denied', 'other'],
    [550, '550 5.0.0 Rejected', 'other'],
    // No enhanced code: the basic code and the text.
    [550, '550 User unknown', 'address'],
    [550, '550 No such user here', 'address'],
    [550, '550 Requested action not taken: mailbox unavailable', 'address'],
    [554, "554 delivery error: dd This user doesn't have a yahoo.com account", 'address'],
    [551, '551 User not local; please try <a@elsewhere.example>', 'address'],
    [556, '556 Domain does not accept mail', 'address'],
    [554, '554 Client host [203.0.113.5] blocked using zen.spamhaus.org', 'policy'],
    [550, '550 Access denied', 'policy'],
    [550, '550 Mailbox unavailable: sender listed as spam source', 'policy'],
    [550, '550 Rejected', 'other'],
    [554, '554 Transaction failed', 'other'],
  ] as const)('%i %s: %s', (code, reply, expected) => {
    expect(recipientRefusal(code, reply)).toBe(expected);
  });
});

describe('classifySmtpError at RCPT TO', () => {
  /** nodemailer's error for a message whose every recipient was refused. */
  const refused = (response: string) =>
    Object.assign(new Error(`Can't send mail - all recipients were rejected: ${response}`), {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      response,
      responseCode: Number(response.slice(0, 3)),
    });

  it('parks a refused address dead, and retries a policy refusal', () => {
    expect(classifySmtpError(refused(`550 ${USER_UNKNOWN}`))).toEqual({
      status: 'dead',
      error: expect.stringMatching(/^SMTP server refused the recipient: .*550 5\.1\.1/),
    });
    for (const reply of [`554 ${BLOCKLISTED}`, `550 ${ACCESS_DENIED}`, `550 ${BANNED_IP}`])
      expect(classifySmtpError(refused(reply))).toEqual({
        status: 'retry',
        error: expect.stringMatching(/^SMTP server turned the recipient away by policy .*not a bounce: .*5\.7\./),
      });
    expect(classifySmtpError(refused('552 5.2.2 Mailbox full'))).toEqual({
      status: 'retry',
      error: expect.stringMatching(/without saying the address is bad, not a bounce: .*552 5\.2\.2/),
    });
    // A relay refusal stays a configuration problem, unless it blames the address.
    expect(classifySmtpError(refused('550 5.7.1 Relaying denied'))).toEqual({
      status: 'retry',
      error: expect.stringMatching(/^SMTP configuration: the server refused to relay/),
    });
    expect(classifySmtpError(refused('554 Relay access denied'))).toEqual({
      status: 'retry',
      error: expect.stringMatching(/^SMTP configuration: the server refused to relay/),
    });
    expect(classifySmtpError(refused(`550 ${RELAY_TABLE}`))).toEqual({
      status: 'dead',
      error: expect.stringMatching(/^SMTP server refused the recipient: .*relay recipient table/),
    });
  });
});

// ---- through a real SMTP server, refusing RCPT TO ----

const PROCESS = `
name: Refusals
organisation: { timezone: UTC }
users:
  - { id: olga, name: Olga Owner, email: olga@sales.example }
pipelines:
  - id: sales
    name: Sales
    default: true
    stages:
      - { id: new, name: New }
assignment:
  default_owner: olga
templates:
  welcome: { subject: Hello, body: Hi. }
`;

const NOW = Date.UTC(2026, 2, 12, 9, 0);

function context(): DeliveryContext {
  const parsed = parseProcess(PROCESS);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return {
    process: parsed.process,
    lead: {
      id: 'lead-1',
      fields: { name: 'Ann', email: 'ann@example.com' },
      owner: 'olga',
      pipeline: 'sales',
      stage: 'new',
      status: 'open',
      lists: [],
    },
    now: NOW,
  };
}

const contactMail: OutboxItem = {
  id: 'lead-1:1:0:email',
  lead: 'lead-1',
  kind: 'email',
  payload: { lead: 'lead-1', template: 'welcome', to: 'ann@example.com', recipient: 'contact', marketing: false },
  attempts: 0,
  createdAt: NOW - 1000,
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An SMTP server refusing every recipient with `answer` (the basic code, then the text). */
async function refusingServer(answer: { code: number; text: string }): Promise<string> {
  const smtp = await startSmtp({
    onRcptTo(_address, _session, callback) {
      callback(smtpRefusal(answer.code, answer.text));
    },
  });
  cleanups.push(() => smtp.close());
  return smtp.url;
}

async function deliverRefused(answer: { code: number; text: string }) {
  const mail = mailDeliverer({ smtpUrl: await refusingServer(answer), from: 'crm@sales.example', mailDir: '/x' });
  cleanups.push(() => mail.close());
  return mail.deliver(contactMail, context());
}

describe('mailDeliverer when the server refuses the recipient', () => {
  it.each([
    [554, BLOCKLISTED],
    [550, ACCESS_DENIED],
    [550, BANNED_IP],
    [554, 'Client host [203.0.113.5] blocked using zen.spamhaus.org'],
  ])('%i %s: retried, the contact not marked', async (code, text) => {
    const r = await deliverRefused({ code, text });
    expect(r).toEqual({ status: 'retry', error: expect.stringContaining(`${code} ${text}`) });
    expect(r).not.toHaveProperty('followUp');
  });

  it.each([
    [550, USER_UNKNOWN],
    [550, RELAY_TABLE],
    [550, '5.2.1 Mailbox disabled'],
    [550, 'No such user here'],
    [550, 'Mailbox unavailable'],
  ])('%i %s: a bounce, marked on the lead', async (code, text) => {
    expect(await deliverRefused({ code, text })).toEqual({
      status: 'dead',
      error: expect.stringMatching(new RegExp(`^SMTP server refused the recipient: .*${code} `)),
      followUp: {
        bounced: { email: 'ann@example.com', note: expect.stringContaining("refused the contact's address for good") },
      },
    });
  });

  it('retries a refusal that does not blame the address (a full mailbox, a bare "rejected")', async () => {
    for (const answer of [
      { code: 552, text: '5.2.2 Mailbox full' },
      { code: 550, text: 'Rejected' },
    ])
      expect(await deliverRefused(answer)).toEqual({
        status: 'retry',
        error: expect.stringMatching(/without saying the address is bad/),
      });
  });
});
