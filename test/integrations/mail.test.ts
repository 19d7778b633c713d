import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Process } from '../../src/domain/process-schema.js';
import { parseProcess } from '../../src/domain/process-load.js';
import type { DeliveryContext, LeadSnapshot, OutboxItem } from '../../src/integrations/delivery.js';
import {
  composeMail,
  idToken,
  messageIdFor,
  senderAddress,
  type Composed,
  type MailMessage,
} from '../../src/integrations/mail/compose.js';
import { mailDeliverer, type MailDeliverer } from '../../src/integrations/mail/deliver.js';
import { renderTemplate } from '../../src/integrations/mail/render.js';
import { startSmtp, smtpRefusal, type TestSmtp } from '../support/smtp.js';

/** A small valid process with addresses, a team with a manager, and templates. */
const MAIL_PROCESS = `
name: Mail test
organisation: { timezone: Europe/Berlin }
users:
  - { id: olga, name: Olga Owner, email: olga@sales.example }
  - { id: mia, name: Mia Manager, email: mia@sales.example }
  - { id: nemo, name: Nemo Nomail }
teams:
  - { id: team, name: Team, manager: mia, members: [olga, nemo] }
pipelines:
  - id: sales
    name: Sales
    default: true
    stages:
      - { id: new, name: New }
      - { id: demo, name: Demo booked }
assignment:
  default_owner: olga
templates:
  welcome:
    subject: 'Hello {{first_name}}, about {{company}}'
    body: |
      Hi {{first_name}},

      I'm {{owner.name}} ({{owner.email}}) and I'll be your contact.
      Ref {{lead.id}}, {{stage}}.[{{no_such_field}}][{{ first_name }}]

      {{owner.name}}
  newsletter:
    subject: Quarterly news
    marketing: true
    body: 'Hi {{first_name}}, here is what is new.'
`;

function mailProcess(): Process {
  const parsed = parseProcess(MAIL_PROCESS);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.process;
}

const FROM = 'Stageflow CRM <crm@mail.sales.example>';
const NOW = Date.UTC(2026, 2, 12, 9, 0);

function lead(over: Partial<LeadSnapshot> = {}): LeadSnapshot {
  return {
    id: 'lead-1',
    fields: {
      first_name: 'Lisa',
      last_name: 'Lind',
      company: 'Acme',
      name: 'Acme rollout',
      email: 'lisa@acme.example',
      unsubscribed: false,
      seats: 40,
    },
    owner: 'olga',
    pipeline: 'sales',
    stage: 'demo',
    status: 'open',
    lists: [],
    ...over,
  };
}

function item(kind: string, payload: Record<string, unknown>, id = `lead-1:7:0:${kind}`): OutboxItem {
  return { id, lead: 'lead-1', kind, payload: { lead: 'lead-1', ...payload }, attempts: 0, createdAt: NOW - 1000 };
}

const welcome = (over: Record<string, unknown> = {}): OutboxItem =>
  item('email', { template: 'welcome', to: 'lisa@acme.example', recipient: 'contact', marketing: false, ...over });

function ctx(over: Partial<DeliveryContext> = {}): DeliveryContext {
  return { process: mailProcess(), lead: lead(), now: NOW, ...over };
}

function ready(c: Composed): MailMessage {
  if (c.status !== 'ready') throw new Error(`expected a message, got dead: ${c.error}`);
  return c.message;
}

function deadReason(c: Composed): string {
  if (c.status !== 'dead') throw new Error(`expected dead, got a message to ${JSON.stringify(c.message.to)}`);
  return c.error;
}

describe('renderTemplate', () => {
  const p = mailProcess();
  it('fills lead fields, owner, lead id and stage name; unknown placeholders render empty', () => {
    const text =
      '{{first_name}} {{ last_name }}|{{owner.name}}|{{owner.email}}|{{lead.id}}|{{stage}}|{{seats}}|{{x}}|{{}}';
    expect(renderTemplate(text, { process: p, lead: lead() })).toBe(
      'Lisa Lind|Olga Owner|olga@sales.example|lead-1|Demo booked|40||',
    );
  });

  it('uses the default after a bar when the value is empty, missing or blank', () => {
    const greet = 'Hi {{first_name | there}}, {{ company|your team }}.';
    expect(renderTemplate(greet, { process: p, lead: lead() })).toBe('Hi Lisa, Acme.');
    const nameOnly = lead({ fields: { name: 'Jonas Weber', first_name: null, company: '  ' } });
    expect(renderTemplate(greet, { process: p, lead: nameOnly })).toBe('Hi there, your team.');
    expect(renderTemplate('[{{owner.name |nobody}}]', { process: p, lead: lead({ owner: null }) })).toBe('[nobody]');
    expect(renderTemplate('[{{x|}}]', { process: p, lead: lead() })).toBe('[]');
  });

  it('never throws: no lead, no owner, odd braces, prototype names', () => {
    expect(renderTemplate('a{{first_name}}b', { process: p, lead: null })).toBe('ab');
    expect(renderTemplate('[{{owner.name}}]', { process: p, lead: lead({ owner: null }) })).toBe('[]');
    expect(renderTemplate('{{constructor}}{{__proto__}}{{toString}}', { process: p, lead: lead() })).toBe('');
    expect(renderTemplate('{{ {{first_name}} }} {first_name} {{first_name', { process: p, lead: lead() })).toBe(
      '{{ Lisa }} {first_name} {{first_name',
    );
    expect(
      renderTemplate('{{flag}}/{{gone}}', { process: p, lead: lead({ fields: { flag: true, gone: null } }) }),
    ).toBe('true/');
  });
});

describe('composeMail', () => {
  it('renders a contact email, with a stable Message-ID, reply-to the owner and no List-Unsubscribe', () => {
    const m = ready(composeMail(welcome(), ctx(), { from: FROM }));
    expect(m.to).toEqual([{ name: 'Lisa Lind', address: 'lisa@acme.example' }]);
    expect(m.cc).toEqual([]);
    expect(m.replyTo).toEqual({ name: 'Olga Owner', address: 'olga@sales.example' });
    expect(m.from).toBe(FROM);
    expect(m.subject).toBe('Hello Lisa, about Acme');
    expect(m.text).toBe(
      "Hi Lisa,\n\nI'm Olga Owner (olga@sales.example) and I'll be your contact.\nRef lead-1, Demo booked.[][Lisa]\n\nOlga Owner\n",
    );
    expect(m.headers['Message-ID']).toBe('<lead-1%3A7%3A0%3Aemail@mail.sales.example>');
    expect(m.headers['Auto-Submitted']).toBe('auto-generated');
    expect(m.headers['List-Unsubscribe']).toBeUndefined();
    expect(m.date).toBe(NOW);
    // Same row, later attempt: the same Message-ID.
    const again = ready(composeMail({ ...welcome(), attempts: 3 }, ctx({ now: NOW + 60_000 }), { from: FROM }));
    expect(again.headers['Message-ID']).toBe(m.headers['Message-ID']);
  });

  it('marks marketing templates with List-Unsubscribe (mailto, no one-click without an https URL)', () => {
    const m = ready(composeMail(welcome({ template: 'newsletter', marketing: true }), ctx(), { from: FROM }));
    expect(m.headers['List-Unsubscribe']).toBe('<mailto:crm@mail.sales.example?subject=unsubscribe>');
    expect(m.headers['List-Unsubscribe-Post']).toBeUndefined();
    // The template's flag counts even if the payload says otherwise.
    const m2 = ready(composeMail(welcome({ template: 'newsletter', marketing: false }), ctx(), { from: FROM }));
    expect(m2.headers['List-Unsubscribe']).toBeDefined();
  });

  it('Message-IDs are valid msg-ids for any outbox id', () => {
    const atext =
      /^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*>$/;
    for (const id of ['a:1:0:email', 'x y (z) é.. /\\"<>@', '.', '']) {
      expect(messageIdFor(id, 'crm@mail.example')).toMatch(atext);
      expect(messageIdFor(id, null)).toMatch(/@stageflow>$/);
    }
    expect(idToken('a:b')).not.toBe(idToken('a.b'));
    expect(senderAddress('Stageflow <stageflow@localhost>')).toBe('stageflow@localhost');
    expect(senderAddress('crm@example.com')).toBe('crm@example.com');
    expect(senderAddress('Stageflow')).toBeNull();
  });

  it('gives dead reasons that no retry can change', () => {
    const c = ctx();
    expect(deadReason(composeMail(welcome({ template: 'gone' }), c, { from: FROM }))).toMatch(
      /unknown email template "gone"/,
    );
    expect(deadReason(composeMail(welcome(), ctx({ lead: null }), { from: FROM }))).toMatch(/erased/);
    expect(deadReason(composeMail(welcome({ to: 'a@b.example, c@d.example' }), c, { from: FROM }))).toMatch(
      /not a usable contact address/,
    );
    const unsubscribed = ctx({ lead: lead({ fields: { ...lead().fields, unsubscribed: true } }) });
    expect(deadReason(composeMail(welcome({ template: 'newsletter' }), unsubscribed, { from: FROM }))).toMatch(
      /unsubscribed/,
    );
    // ...but a transactional template still goes to an unsubscribed contact.
    expect(composeMail(welcome(), unsubscribed, { from: FROM }).status).toBe('ready');
    expect(
      deadReason(composeMail(item('congratulate', { user: 'nemo', message: 'Well done' }), c, { from: FROM })),
    ).toBe('the user to congratulate "nemo" (Nemo Nomail) has no email address in the process');
    expect(
      deadReason(composeMail(item('congratulate', { user: 'ghost', message: 'Well done' }), c, { from: FROM })),
    ).toMatch(/"ghost" is not a user/);
    expect(
      deadReason(
        composeMail(item('task.reminder', { task: 't1', title: 'Call', user: null, dueAt: NOW }), c, { from: FROM }),
      ),
    ).toMatch(/no assignee/);
    expect(deadReason(composeMail(item('task.reminder', { task: 't1' }), c, { from: FROM }))).toMatch(
      /malformed task.reminder payload: title/,
    );
    expect(deadReason(composeMail(item('webhook', { url: 'https://x.example' }), c, { from: FROM }))).toMatch(
      /not a mail effect/,
    );
  });

  it('writes short notifications naming the lead, the task or the stage', () => {
    const c = ctx();
    const congrats = ready(
      composeMail(item('congratulate', { user: 'olga', message: 'Well done: Acme rollout was won' }), c, {
        from: FROM,
      }),
    );
    expect(congrats.to).toEqual([{ name: 'Olga Owner', address: 'olga@sales.example' }]);
    expect(congrats.subject).toBe('Well done: Acme rollout was won');
    expect(congrats.text).toContain('Lead: Acme rollout (lead-1), stage Demo booked.');

    const dueAt = Date.UTC(2026, 2, 12, 13, 0);
    const reminder = ready(
      composeMail(item('task.reminder', { task: 't1', title: 'Prepare demo', user: 'olga', dueAt }), c, { from: FROM }),
    );
    expect(reminder.subject).toBe('Task due: Prepare demo (Acme rollout)');
    expect(reminder.cc).toEqual([]);
    expect(reminder.text).toContain(
      'your task "Prepare demo" for Acme rollout is due by 12 Mar 2026, 14:00 (Europe/Berlin).',
    );

    const overdue = ready(
      composeMail(item('task.overdue', { task: 't1', title: 'Prepare demo', user: 'olga', manager: 'mia', dueAt }), c, {
        from: FROM,
      }),
    );
    expect(overdue.subject).toBe('Overdue: Prepare demo (Acme rollout)');
    expect(overdue.to.map((a) => a.address)).toEqual(['olga@sales.example']);
    expect(overdue.cc).toEqual([{ name: 'Mia Manager', address: 'mia@sales.example' }]);

    const stalled = ready(
      composeMail(
        item('stage.stalled', { stage: 'demo', user: 'olga', manager: 'mia', since: NOW - 15 * 86_400_000 }),
        ctx({ lead: lead({ fields: { company: 'Beta GmbH' } }) }),
        { from: FROM },
      ),
    );
    expect(stalled.subject).toBe('Stalled: Beta GmbH in Demo booked');
    expect(stalled.text).toContain('Beta GmbH has been in Demo booked since 25 Feb 2026 (Europe/Berlin) (15 days)');
    expect(stalled.cc.map((a) => a.address)).toEqual(['mia@sales.example']);

    // A manager without an address is left out of copy, not fatal; the lead's id names a nameless lead.
    const noCc = ready(
      composeMail(
        item('stage.stalled', { stage: 'new', user: 'olga', manager: 'nemo', since: NOW }),
        ctx({ lead: lead({ fields: {} }) }),
        { from: FROM },
      ),
    );
    expect(noCc.cc).toEqual([]);
    expect(noCc.subject).toBe('Stalled: lead-1 in New');
  });
});

// ---- delivery through a real SMTP server, and to .eml files ----

/** A real SMTP server (test/support/smtp.ts) whose answer at RCPT TO a test may set. */
interface RefusingSmtp extends TestSmtp {
  /** Set to refuse some recipients at RCPT TO with this code and text. */
  refuse: (address: string) => { code: number; text: string } | null;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startRefusingSmtp(): Promise<RefusingSmtp> {
  const smtp: RefusingSmtp = Object.assign(
    await startSmtp({
      onRcptTo(address, _session, callback) {
        const r = smtp.refuse(address.address);
        if (!r) return callback();
        callback(smtpRefusal(r.code, r.text));
      },
    }),
    { refuse: () => null },
  );
  cleanups.push(() => smtp.close());
  return smtp;
}

/** A real SMTP server that answers as `options` say, closed after the test. */
async function startPlainSmtp(options: Parameters<typeof startSmtp>[0]): Promise<TestSmtp> {
  const smtp = await startSmtp(options);
  cleanups.push(() => smtp.close());
  return smtp;
}

function deliverer(opts: { smtpUrl?: string; mailDir?: string }): MailDeliverer {
  const d = mailDeliverer({ smtpUrl: opts.smtpUrl ?? '', from: FROM, mailDir: opts.mailDir ?? '/nonexistent' });
  cleanups.push(() => d.close());
  return d;
}

/** Headers (lower-case names, unfolded) and the text body, quoted-printable decoded. */
function parseMail(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  expect(split).toBeGreaterThan(0);
  const headers = new Map<string, string>();
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    expect(colon, `header line ${JSON.stringify(line)}`).toBeGreaterThan(0);
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.slice(split + 4);
  if (headers.get('content-transfer-encoding')?.toLowerCase() === 'quoted-printable') {
    const bytes = body
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    body = Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return { headers, body: body.replace(/\r\n/g, '\n') };
}

const ctxNow = (over: Partial<DeliveryContext> = {}): DeliveryContext => ({
  process: mailProcess(),
  lead: lead(),
  now: NOW,
  ...over,
});

describe('mailDeliverer over SMTP', () => {
  it('delivers the rendered template; a resend of the same row has the same Message-ID', async () => {
    const smtp = await startRefusingSmtp();
    const mail = deliverer({ smtpUrl: smtp.url });

    const first = await mail.deliver(welcome(), ctxNow());
    const second = await mail.deliver({ ...welcome(), attempts: 1 }, ctxNow({ now: NOW + 5_000 }));
    expect(first).toEqual({ status: 'sent', detail: '<lead-1%3A7%3A0%3Aemail@mail.sales.example>' });
    expect(second).toEqual(first);

    expect(smtp.received).toHaveLength(2);
    const [a, b] = smtp.received.map((r) => parseMail(r.raw));
    expect(smtp.received[0]?.rcpt).toEqual(['lisa@acme.example']);
    expect(smtp.received[0]?.from).toBe('crm@mail.sales.example');
    expect(a?.headers.get('to')).toBe('Lisa Lind <lisa@acme.example>');
    expect(a?.headers.get('from')).toBe('Stageflow CRM <crm@mail.sales.example>');
    expect(a?.headers.get('reply-to')).toBe('Olga Owner <olga@sales.example>');
    expect(a?.headers.get('subject')).toBe('Hello Lisa, about Acme');
    expect(a?.headers.get('message-id')).toBe('<lead-1%3A7%3A0%3Aemail@mail.sales.example>');
    expect(b?.headers.get('message-id')).toBe(a?.headers.get('message-id'));
    expect(a?.headers.get('auto-submitted')).toBe('auto-generated');
    expect(a?.headers.get('x-stageflow-outbox-id')).toBe('lead-1:7:0:email');
    expect(a?.headers.get('date')).toBe('Thu, 12 Mar 2026 09:00:00 +0000');
    expect(a?.headers.has('list-unsubscribe')).toBe(false);
    expect(a?.body).toContain('Hi Lisa,');
    expect(a?.body).toContain("I'm Olga Owner (olga@sales.example)");

    const news = await mail.deliver(welcome({ template: 'newsletter', marketing: true }), ctxNow());
    expect(news.status).toBe('sent');
    const n = parseMail(smtp.received[2]?.raw ?? '');
    expect(n.headers.get('list-unsubscribe')).toBe('<mailto:crm@mail.sales.example?subject=unsubscribe>');
    expect(n.headers.has('list-unsubscribe-post')).toBe(false);
    expect(n.headers.get('subject')).toBe('Quarterly news');
  });

  it('sends an overdue task to the assignee with the manager in copy', async () => {
    const smtp = await startRefusingSmtp();
    const mail = deliverer({ smtpUrl: smtp.url });
    const overdue = item('task.overdue', {
      task: 't1',
      title: 'Prepare demo',
      user: 'olga',
      manager: 'mia',
      dueAt: NOW - 86_400_000,
    });
    expect((await mail.deliver(overdue, ctxNow())).status).toBe('sent');
    const [got] = smtp.received;
    expect(got?.rcpt.sort()).toEqual(['mia@sales.example', 'olga@sales.example']);
    const m = parseMail(got?.raw ?? '');
    expect(m.headers.get('to')).toBe('Olga Owner <olga@sales.example>');
    expect(m.headers.get('cc')).toBe('Mia Manager <mia@sales.example>');
    expect(m.headers.get('subject')).toBe('Overdue: Prepare demo (Acme rollout)');
    expect(m.body).toContain('Mia Manager is copied as your manager.');
  });

  it('retries a 4xx refusal, parks a 5xx one, and reports a partly refused message as sent', async () => {
    const smtp = await startRefusingSmtp();
    const mail = deliverer({ smtpUrl: smtp.url });

    smtp.refuse = () => ({ code: 451, text: 'Greylisted, try again later' });
    const deferred = await mail.deliver(welcome(), ctxNow());
    expect(deferred.status).toBe('retry');
    expect(deferred.status !== 'sent' && deferred.error).toMatch(/451 Greylisted/);

    smtp.refuse = () => ({ code: 550, text: 'Mailbox unavailable' });
    const refused = await mail.deliver(welcome(), ctxNow());
    expect(refused.status).toBe('dead');
    expect(refused.status !== 'sent' && refused.error).toMatch(/550 Mailbox unavailable/);
    expect(smtp.received).toHaveLength(0);

    // The connection is still usable after refusals: the next message goes through.
    smtp.refuse = (address) => (address === 'mia@sales.example' ? { code: 550, text: 'No such user' } : null);
    const stalled = item('stage.stalled', {
      stage: 'demo',
      user: 'olga',
      manager: 'mia',
      since: NOW - 20 * 86_400_000,
    });
    const partly = await mail.deliver(stalled, ctxNow());
    expect(partly).toEqual({
      status: 'sent',
      detail: '<lead-1%3A7%3A0%3Astage%2Estalled@mail.sales.example> (refused: mia@sales.example)',
    });
    expect(smtp.received.map((r) => r.rcpt)).toEqual([['olga@sales.example']]);
  });

  it('retries when the server is gone (connection refused) or drops the connection', async () => {
    const smtp = await startRefusingSmtp();
    const mail = deliverer({ smtpUrl: smtp.url });
    expect((await mail.deliver(welcome(), ctxNow())).status).toBe('sent');
    await smtp.close();
    const gone = await mail.deliver(welcome(), ctxNow());
    expect(gone.status).toBe('retry');
    expect(gone.status !== 'sent' && gone.error).toMatch(/ECONNREFUSED/);

    // A server that accepts the connection and hangs up at once.
    const rude: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => rude.close(() => resolve())));
    const dropped = await deliverer({ smtpUrl: `smtp://127.0.0.1:${(rude.address() as AddressInfo).port}` }).deliver(
      welcome(),
      ctxNow(),
    );
    expect(dropped.status).toBe('retry');
  });

  it('retries when the server never greets (timeout); SMTP_URL parameters tune the timeouts', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as AddressInfo).port;
    const started = Date.now();
    const r = await deliverer({ smtpUrl: `smtp://127.0.0.1:${port}/?greetingTimeout=200` }).deliver(
      welcome(),
      ctxNow(),
    );
    expect(r.status).toBe('retry');
    expect(r.status !== 'sent' && r.error).toMatch(/ETIMEDOUT|[Gg]reeting/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('retries a refused login (a configuration problem) and never echoes the password', async () => {
    const { port } = await startPlainSmtp({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(_auth, _session, callback) {
        callback(new Error('Invalid username or password'));
      },
    });
    const r = await deliverer({ smtpUrl: `smtp://crm:s3cr%3At@127.0.0.1:${port}` }).deliver(welcome(), ctxNow());
    expect(r.status).toBe('retry');
    expect(r.status !== 'sent' && r.error).toMatch(/^SMTP login failed \(check SMTP_URL\).*535/);
    expect(r.status !== 'sent' && r.error).not.toMatch(/s3cr/);
  });

  it('retries what only the setup can fix: a login the URL does not give (530), a refused sender or relay', async () => {
    // A relay that wants a login, reached by an SMTP_URL without user:pass: 530 at MAIL FROM.
    const authRequired = await startPlainSmtp({ authOptional: false, allowInsecureAuth: true });
    const noLogin = await deliverer({ smtpUrl: authRequired.url }).deliver(welcome(), ctxNow());
    expect(noLogin.status).toBe('retry');
    expect(noLogin.status !== 'sent' && noLogin.error).toMatch(
      /^SMTP configuration: the server requires a login .*530/,
    );

    // A server that refuses this sender at MAIL FROM, and one that refuses to relay at RCPT TO.
    const picky = await startPlainSmtp({
      onMailFrom(_address, _session, callback) {
        callback(smtpRefusal(553, 'Sender address rejected: not owned by user'));
      },
    });
    const sender = await deliverer({ smtpUrl: picky.url }).deliver(welcome(), ctxNow());
    expect(sender.status).toBe('retry');
    expect(sender.status !== 'sent' && sender.error).toMatch(/^SMTP configuration: the server refused the sender/);

    const smtp = await startRefusingSmtp();
    smtp.refuse = () => ({ code: 550, text: '5.7.1 Relaying denied' });
    const relay = await deliverer({ smtpUrl: smtp.url }).deliver(welcome(), ctxNow());
    expect(relay.status).toBe('retry');
    expect(relay.status !== 'sent' && relay.error).toMatch(/^SMTP configuration: the server refused to relay/);
  });

  it('does not send what compose declares dead, and retries after close()', async () => {
    const smtp = await startRefusingSmtp();
    const mail = deliverer({ smtpUrl: smtp.url });
    const noAddress = await mail.deliver(item('congratulate', { user: 'nemo', message: 'Well done' }), ctxNow());
    expect(noAddress.status).toBe('dead');
    expect((await mail.deliver(welcome({ template: 'gone' }), ctxNow())).status).toBe('dead');
    await mail.close();
    expect(await mail.deliver(welcome(), ctxNow())).toEqual({
      status: 'retry',
      error: 'the mail deliverer was closed',
    });
    expect(smtp.received).toHaveLength(0);
  });
});

describe('mailDeliverer without SMTP (.eml files)', () => {
  it('writes one parseable .eml per outbox row, atomically; a resend replaces it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'stageflow-mail-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const dir = join(root, 'data', 'mail');
    const mail = deliverer({ mailDir: dir });

    const sent = await mail.deliver(welcome(), ctxNow());
    const file = join(dir, 'lead-1%3A7%3A0%3Aemail.eml');
    // Recorded as kept, not as mail that left.
    expect(sent).toEqual({ status: 'sent', detail: `not sent (SMTP_URL is unset): kept as ${file}`, kept: true });
    const m = parseMail(await readFile(file, 'utf8'));
    expect(m.headers.get('message-id')).toBe('<lead-1%3A7%3A0%3Aemail@mail.sales.example>');
    expect(m.headers.get('to')).toBe('Lisa Lind <lisa@acme.example>');
    expect(m.headers.get('subject')).toBe('Hello Lisa, about Acme');
    expect(m.body).toContain('Hi Lisa,');

    // A resend after a crash (the lease ran out: the row was not counted as tried) replaces the file.
    expect(await mail.deliver(welcome(), ctxNow())).toEqual(sent);
    const news = await mail.deliver(
      item(
        'email',
        { template: 'newsletter', to: 'lisa@acme.example', recipient: 'contact', marketing: true },
        'lead-1:8:0:email',
      ),
      ctxNow(),
    );
    expect(news.status).toBe('sent');
    const n = parseMail(await readFile(join(dir, 'lead-1%3A8%3A0%3Aemail.eml'), 'utf8'));
    expect(n.headers.get('list-unsubscribe')).toBe('<mailto:crm@mail.sales.example?subject=unsubscribe>');
    expect((await readdir(dir)).sort()).toEqual(['lead-1%3A7%3A0%3Aemail.eml', 'lead-1%3A8%3A0%3Aemail.eml']);
  });

  it('does not write a row that was tried before (over SMTP, by a worker that had SMTP_URL): it waits', async () => {
    const root = await mkdtemp(join(tmpdir(), 'stageflow-mail-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const dir = join(root, 'mail');
    const r = await deliverer({ mailDir: dir }).deliver({ ...welcome(), attempts: 3 }, ctxNow());
    expect(r.status).toBe('retry');
    expect(r.status !== 'sent' && r.error).toMatch(/^SMTP_URL is unset: this message was tried before/);
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
  });

  it('retries when the folder cannot be written', async () => {
    const root = await mkdtemp(join(tmpdir(), 'stageflow-mail-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const mail = deliverer({ mailDir: join(root, 'data', 'mail') });
    // A file where the folder should be.
    await writeFile(join(root, 'data'), 'not a folder');
    const r = await mail.deliver(welcome(), ctxNow());
    expect(r.status).toBe('retry');
    expect(r.status !== 'sent' && r.error).toMatch(/could not write .*(ENOTDIR|EEXIST)/);
  });
});
