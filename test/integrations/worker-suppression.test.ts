import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Deliverer } from '../../src/integrations/delivery.js';
import { buildDeliverers } from '../../src/integrations/index.js';
import { workOnce } from '../../src/server/worker.js';
import { eraseContact } from '../../src/store/contact-erase.js';
import type { Store } from '../../src/store/db.js';
import { startMailchimpStandin, type MailchimpStandin } from '../support/mailchimp-standin.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Nothing reaches an erased address, however long it waited in the outbox: a lead's welcome
 * mail, list subscribe and enrichment queued while it had the person's address (it has another
 * now, so the erase did not find it) are cancelled when the worker claims them, not sent to a real
 * SMTP server, the Mailchimp stand-in or the enrichment providers. Contact mail for an address the
 * lead no longer has is cancelled too; the erase's own list.erase rows still go out.
 */

const T0 = Date.parse('2026-03-02T09:00:00Z');

const processYaml = `
name: Suppression at delivery
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
          - subscribe: { list: trial-nurture }
          - enrich: true
assignment:
  default_owner: anna
templates:
  welcome:
    subject: 'Welcome'
    body: 'Hello.'
`;

async function smtpServer(): Promise<{ server: SMTPServer; port: number; got: string[] }> {
  const got: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, done) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString()));
      stream.on('end', () => {
        got.push(raw);
        done();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.server.address() as AddressInfo).port, got };
}

describe.each(dialects)('the worker sends nothing to an erased address on %s', (dialect) => {
  let store: Store;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it('cancels contact mail, list subscribe and enrichment queued before the erase, and still erases from the list', async () => {
    const smtp = await smtpServer();
    closers.push(() => new Promise<void>((r) => smtp.server.close(() => r())));
    const mailchimp: MailchimpStandin = await startMailchimpStandin({ lists: ['list-a'] });
    closers.push(() => mailchimp.close());
    store = await freshStore(dialect);
    closers.push(() => store.close());
    await applyProcess(store, processYaml, T0, 'test');
    const engine = new Engine(store);
    const built = buildDeliverers(
      loadConfig({
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        MAIL_FROM: 'Sales <sales@seller.example>',
        MAILCHIMP_API_KEY: mailchimp.apiKey,
        MAILCHIMP_BASE_URL: mailchimp.baseUrl,
        MAILCHIMP_LISTS: 'trial-nurture=list-a',
      }),
    );
    closers.push(() => built.close());
    // Enrichment would look the address up in DNS and on the web: a spy says whether it was asked.
    const enriched: string[] = [];
    const spy: Deliverer = (item) => {
      enriched.push(item.lead);
      return Promise.resolve({ status: 'sent', detail: 'looked up' });
    };
    const deliverers = new Map([...built.deliverers, ['enrich', spy]]);

    const handle = async (event: Parameters<Engine['handle']>[0], at: number) =>
      expect((await engine.handle(event, at)).ok).toBe(true);
    // Her address on a lead that then passes to a successor: its rows stay queued with her address.
    await handle(
      { type: 'lead.created', lead: 'L-MOVED', fields: { name: 'Jane Roe', email: 'jane@acme.example' } },
      T0,
    );
    await handle({ type: 'lead.updated', lead: 'L-MOVED', fields: { email: 'sam@acme.example' } }, T0 + 10);
    // Her current lead, which the erase finds; and a lead whose address was corrected (nobody erased).
    await handle(
      { type: 'lead.created', lead: 'L-JANE', fields: { name: 'Jane Roe', email: 'Jane@Acme.example' } },
      T0,
    );
    await handle({ type: 'lead.created', lead: 'L-TYPO', fields: { email: 'pat@typo.example' } }, T0);
    await handle({ type: 'lead.updated', lead: 'L-TYPO', fields: { email: 'pat@fixed.example' } }, T0 + 10);
    await handle({ type: 'lead.created', lead: 'L-OK', fields: { email: 'kim@ok.example' } }, T0);
    const erased = await eraseContact(store, 'jane@acme.example', 'admin', T0 + 20);
    expect(erased.leads).toEqual(['L-JANE']);
    expect(erased.listErasures.map((e) => e.id)).toEqual(['erase:L-JANE:trial-nurture']);

    for (let round = 0; round < 3; round++)
      await workOnce(store, engine, { deliverers, now: () => T0 + 1_000 + round, sessionIdleMs: 60_000 });

    const rows = await store.db
      .selectFrom('outbox')
      .select(['id', 'status', 'last_error'])
      .where('lead_id', 'in', ['L-MOVED', 'L-TYPO', 'L-JANE'])
      .where('id', 'not like', 'L-JANE:%') // the erase cancelled those itself
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { id: 'L-MOVED:1:0:email', status: 'cancelled', last_error: 'cancelled: contact erased' },
      { id: 'L-MOVED:1:1:list.subscribe', status: 'cancelled', last_error: 'cancelled: contact erased' },
      { id: 'L-MOVED:1:2:enrich', status: 'cancelled', last_error: 'cancelled: contact erased' },
      {
        id: 'L-TYPO:1:0:email',
        status: 'cancelled',
        last_error: 'cancelled: the lead has another address by now',
      },
      // Not erased: left to the deliverers, which check the lead's address themselves.
      { id: 'L-TYPO:1:1:list.subscribe', status: 'sent', last_error: null },
      { id: 'L-TYPO:1:2:enrich', status: 'sent', last_error: null },
      { id: 'erase:L-JANE:trial-nurture', status: 'sent', last_error: null },
    ]);
    // Only the untouched lead's welcome went out; nobody asked Mailchimp about her address.
    expect(smtp.got).toHaveLength(1);
    expect(smtp.got[0]).toMatch(/^To: kim@ok\.example/m);
    expect(smtp.got.join('\n')).not.toMatch(/jane@acme/i);
    expect(mailchimp.member('list-a', 'jane@acme.example')).toBeUndefined();
    expect(mailchimp.member('list-a', 'kim@ok.example')?.status).toBe('subscribed');
    expect(enriched.sort()).toEqual(['L-OK', 'L-TYPO']);
  });
});
