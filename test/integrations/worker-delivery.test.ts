import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { buildDeliverers } from '../../src/integrations/index.js';
import { verifyWebhookSignature } from '../../src/integrations/webhook.js';
import { workOnce } from '../../src/server/worker.js';
import type { Store } from '../../src/store/db.js';
import { startSmtp, smtpRefusal, type TestSmtp } from '../support/smtp.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * The worker delivers what the rules queued, end to end: a lead enters a stage whose automations
 * mail the contact and call a webhook; one worker round sends the mail to a real SMTP server in
 * this process and the webhook to a real HTTP server, and records both as sent. A webhook with no
 * secret is parked as dead, and an admin's replay after the secret is set delivers it.
 */

const T0 = Date.parse('2026-03-02T09:00:00Z');

function processYaml(hookUrl: string): string {
  return `
name: Delivery test
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna Owner, email: anna@seller.example }
pipelines:
  - id: sales
    name: Sales
    default: true
    stages:
      - id: new
        name: New
        on_enter:
          - email: { template: welcome, to: contact }
          - webhook: { url: '${hookUrl}' }
      - id: won-ish
        name: Later
assignment:
  default_owner: anna
templates:
  welcome:
    subject: 'Hello {{first_name}}'
    body: |
      Hi {{first_name}}, I am {{owner.name}}.
`;
}

interface ReceivedHook {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

async function receivers(): Promise<{ smtp: TestSmtp; http: Server; hookUrl: string; hooks: ReceivedHook[] }> {
  const hooks: ReceivedHook[] = [];
  const smtp = await startSmtp();
  const http = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hooks.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`;
  return { smtp, http, hookUrl, hooks };
}

describe.each(dialects)('the worker delivers the outbox on %s', (dialect) => {
  let store: Store;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    // Last opened, first closed: the mail pool's connection must end before the SMTP server can.
    for (const c of closers.splice(0).reverse()) await c();
  });

  it('mails the contact and calls the signed webhook, then parks and replays an unsigned one', async () => {
    const r = await receivers();
    closers.push(
      () => r.smtp.close(),
      () => new Promise<void>((res) => r.http.close(() => res())),
    );
    store = await freshStore(dialect);
    closers.push(() => store.close());
    await applyProcess(store, processYaml(r.hookUrl), T0, 'test');
    const engine = new Engine(store);
    const created = await engine.handle(
      {
        type: 'lead.created',
        lead: 'L1',
        fields: { email: 'lisa@buyer.example', first_name: 'Lisa', name: 'Buyer Ltd' },
      },
      T0,
    );
    expect(created.ok).toBe(true);

    const env = {
      SMTP_URL: r.smtp.url,
      MAIL_FROM: 'Sales <sales@seller.example>',
      WEBHOOK_SECRET: 'whsec-test',
      // The receiver is this test's, on loopback.
      WEBHOOK_ALLOW_PRIVATE: 'true',
    };
    const signed = buildDeliverers(loadConfig(env));
    closers.push(() => signed.close());
    await workOnce(store, engine, { deliverers: signed.deliverers, now: () => T0 + 1000, sessionIdleMs: 60_000 });

    expect(r.smtp.received).toHaveLength(1);
    const mail = r.smtp.received[0]?.raw ?? '';
    expect(mail).toMatch(/^To: Lisa <lisa@buyer\.example>/m);
    expect(mail).toMatch(/^Subject: Hello Lisa/m);
    expect(mail).toContain('Hi Lisa, I am Anna Owner.');
    expect(r.hooks).toHaveLength(1);
    const hook = r.hooks[0];
    expect(
      verifyWebhookSignature(
        'whsec-test',
        String(hook?.headers['stageflow-signature']),
        hook?.body ?? '',
        Math.floor((T0 + 1000) / 1000),
      ),
    ).toBe(true);
    expect(JSON.parse(hook?.body ?? '{}')).toMatchObject({ lead: { id: 'L1', stage: 'new', owner: 'anna' } });
    const statuses = await store.db
      .selectFrom('outbox')
      .select(['kind', 'status', 'detail', 'last_attempt_at'])
      .orderBy('kind')
      .execute();
    // Each row keeps what the far side answered: the SMTP message id, the webhook's HTTP status.
    expect(statuses).toEqual([
      {
        kind: 'email',
        status: 'sent',
        detail: expect.stringMatching(/^<[^>]+@seller\.example>$/),
        last_attempt_at: T0 + 1000,
      },
      { kind: 'webhook', status: 'sent', detail: expect.stringMatching(/^HTTP 2\d\d$/), last_attempt_at: T0 + 1000 },
    ]);

    // A second lead, met by a worker whose webhook secret is not set: its webhook waits, unsent
    // and untried, and goes out once a worker has the secret, with no replay needed.
    await engine.handle(
      { type: 'lead.created', lead: 'L2', fields: { email: 'max@buyer.example', first_name: 'Max' } },
      T0 + 2000,
    );
    const unsigned = buildDeliverers(loadConfig({ ...env, WEBHOOK_SECRET: '' }));
    closers.push(() => unsigned.close());
    await workOnce(store, engine, { deliverers: unsigned.deliverers, now: () => T0 + 3000, sessionIdleMs: 60_000 });
    expect(r.hooks).toHaveLength(1);
    const waiting = await store.db
      .selectFrom('outbox')
      .selectAll()
      .where('lead_id', '=', 'L2')
      .where('kind', '=', 'webhook')
      .executeTakeFirstOrThrow();
    expect(waiting).toMatchObject({ status: 'pending', attempts: 0, last_error: null });

    await workOnce(store, engine, { deliverers: signed.deliverers, now: () => T0 + 5000, sessionIdleMs: 60_000 });
    expect(r.hooks).toHaveLength(2);
    expect(JSON.parse(r.hooks[1]?.body ?? '{}')).toMatchObject({ lead: { id: 'L2' } });
  });
});

describe.each(dialects)('a hard bounce of contact mail on %s', (dialect) => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it('marks the address bounced on the lead, tells the rep, and sends no more automated mail to it', async () => {
    const smtp = await startSmtp({
      onRcptTo(address, _session, callback) {
        if (address.address === 'gone@buyer.example') return callback(smtpRefusal(550, '5.1.1 Mailbox unavailable'));
        callback();
      },
    });
    closers.push(() => smtp.close());
    const delivered = () => smtp.received.flatMap((m) => m.rcpt);
    const store = await freshStore(dialect);
    closers.push(() => store.close());
    await applyProcess(
      store,
      `
name: Bounce test
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna Owner, email: anna@seller.example }
pipelines:
  - id: sales
    name: Sales
    default: true
    stages:
      - id: new
        name: New
        on_enter: [{ email: { template: welcome, to: contact } }]
      - id: demo
        name: Demo
        on_enter: [{ email: { template: welcome, to: contact } }]
assignment:
  default_owner: anna
templates:
  welcome: { subject: 'Hello', body: 'Hi.' }
`,
      T0,
      'test',
    );
    const engine = new Engine(store);
    expect(
      (await engine.handle({ type: 'lead.created', lead: 'B1', fields: { email: 'gone@buyer.example' } }, T0)).ok,
    ).toBe(true);
    const config = loadConfig({
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Sales <sales@seller.example>',
    });
    const d = buildDeliverers(config);
    closers.push(() => d.close());
    const work = (at: number) =>
      workOnce(store, engine, { deliverers: d.deliverers, now: () => at, sessionIdleMs: 60_000 });
    await work(T0 + 1000);

    const rows = () =>
      store.db
        .selectFrom('outbox')
        .select(['id', 'status', 'last_error'])
        .where('lead_id', '=', 'B1')
        .orderBy('id')
        .execute();
    expect(await rows()).toEqual([
      { id: expect.any(String), status: 'dead', last_error: expect.stringMatching(/refused the recipient.*550/) },
    ]);
    const lead = await store.db.selectFrom('leads').select('fields').where('id', '=', 'B1').executeTakeFirstOrThrow();
    expect(JSON.parse(lead.fields)).toMatchObject({ email: 'gone@buyer.example', email_bounced: 'gone@buyer.example' });
    const notes = await store.db
      .selectFrom('activities')
      .select(['kind', 'note'])
      .where('lead_id', '=', 'B1')
      .execute();
    expect(notes).toEqual([
      { kind: 'email_bounced', note: expect.stringMatching(/refused the contact's address for good.*550/) },
    ]);

    // The next stage's mail to the same address is cancelled unsent; once the address is corrected, mail flows.
    expect(
      (await engine.handle({ type: 'lead.moved', lead: 'B1', stage: 'demo', override: false }, T0 + 2000)).ok,
    ).toBe(true);
    await work(T0 + 3000);
    expect((await rows())[1]).toMatchObject({ status: 'cancelled', last_error: expect.stringMatching(/bounced/) });
    expect(delivered()).toEqual([]);
    const v = await store.db.selectFrom('leads').select('version').where('id', '=', 'B1').executeTakeFirstOrThrow();
    expect(
      (
        await engine.handle(
          { type: 'lead.updated', lead: 'B1', fields: { email: 'new@buyer.example' } },
          T0 + 4000,
          v.version,
        )
      ).ok,
    ).toBe(true);
    expect((await engine.handle({ type: 'lead.moved', lead: 'B1', stage: 'new', override: false }, T0 + 5000)).ok).toBe(
      true,
    );
    await work(T0 + 6000);
    expect(delivered()).toEqual(['new@buyer.example']);
  });
});
