import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Deliverer } from '../../src/integrations/delivery.js';
import { buildDeliverers } from '../../src/integrations/index.js';
import { workOnce } from '../../src/server/worker.js';
import { contactKeys } from '../../src/store/contact-keys.js';
import type { Store } from '../../src/store/db.js';
import { startMailchimpStandin, type MailchimpStandin } from '../support/mailchimp-standin.js';
import { suppress } from '../../src/store/suppressions.js';
import { startSmtp } from '../support/smtp.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Nothing reaches a suppressed (erased) address, however long it waited in the outbox: welcome
 * mail, list subscribes and enrichments queued for it are cancelled when the worker claims them,
 * not sent to a real SMTP server, the Mailchimp stand-in or the enrichment providers, whether or not
 * the lead still has the address. Contact mail for an address the lead no longer has is cancelled
 * too. (List erasures still go out: test/store/outbox-delivery.test.ts.)
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

describe.each(dialects)('the worker sends nothing to an erased address on %s', (dialect) => {
  let store: Store;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  it('cancels contact mail, list subscribe and enrichment for a suppressed address, and contact mail to a former one', async () => {
    const smtp = await startSmtp();
    closers.push(() => smtp.close());
    const mailchimp: MailchimpStandin = await startMailchimpStandin({ lists: ['list-a'] });
    closers.push(() => mailchimp.close());
    store = await freshStore(dialect);
    closers.push(() => store.close());
    await applyProcess(store, processYaml, T0, 'test');
    const engine = new Engine(store);
    const built = buildDeliverers(
      loadConfig({
        SMTP_URL: smtp.url,
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
    // A lead that still has the address, and one that had it and passed to a successor: both have
    // rows queued for it when it is suppressed (as an erase does; here on the list directly, since
    // an erase would also cancel the rows of every lead it finds, and the worker must not depend on that).
    await handle({ type: 'lead.created', lead: 'L-STILL', fields: { name: 'Lee Lo', email: 'lee@lo.example' } }, T0);
    await handle(
      { type: 'lead.created', lead: 'L-MOVED', fields: { name: 'Jane Roe', email: 'jane@acme.example' } },
      T0,
    );
    await handle({ type: 'lead.updated', lead: 'L-MOVED', fields: { email: 'sam@acme.example' } }, T0 + 10);
    // A lead whose address was corrected (nobody erased), and one left alone.
    await handle({ type: 'lead.created', lead: 'L-TYPO', fields: { email: 'pat@typo.example' } }, T0);
    await handle({ type: 'lead.updated', lead: 'L-TYPO', fields: { email: 'pat@fixed.example' } }, T0 + 10);
    await handle({ type: 'lead.created', lead: 'L-OK', fields: { email: 'kim@ok.example' } }, T0);
    const keys = await contactKeys(store.db);
    for (const erased of ['Lee@Lo.example', 'jane@acme.example'])
      await suppress(store.db, keys.hash(erased), 'erased', T0 + 20);

    for (let round = 0; round < 3; round++)
      await workOnce(store, engine, { deliverers, now: () => T0 + 1_000 + round, sessionIdleMs: 60_000 });

    const rows = await store.db
      .selectFrom('outbox')
      .select(['id', 'status', 'last_error'])
      .where('lead_id', 'in', ['L-STILL', 'L-MOVED', 'L-TYPO'])
      .orderBy('id')
      .execute();
    const erased = (id: string) => ({ id, status: 'cancelled', last_error: 'cancelled: contact erased' });
    expect(rows).toEqual([
      erased('L-MOVED:1:0:email'),
      erased('L-MOVED:1:1:list.subscribe'),
      erased('L-MOVED:1:2:enrich'),
      // The address change moved the list membership (docs/process.md): the old address's
      // unsubscribe only takes an address off a list, so it goes even for an erased one; Sam's
      // subscribe is his.
      { id: 'L-MOVED:2:0:list.unsubscribe', status: 'sent', last_error: null },
      { id: 'L-MOVED:2:1:list.subscribe', status: 'sent', last_error: null },
      erased('L-STILL:1:0:email'),
      erased('L-STILL:1:1:list.subscribe'),
      erased('L-STILL:1:2:enrich'),
      {
        id: 'L-TYPO:1:0:email',
        status: 'cancelled',
        last_error: 'cancelled: the lead has another address by now',
      },
      {
        id: 'L-TYPO:1:1:list.subscribe',
        status: 'cancelled',
        last_error: 'cancelled: the lead has another address by now',
      },
      // Not erased: left to the enrichment deliverer, which checks the lead's address itself.
      { id: 'L-TYPO:1:2:enrich', status: 'sent', last_error: null },
      { id: 'L-TYPO:2:0:list.unsubscribe', status: 'sent', last_error: null },
      { id: 'L-TYPO:2:1:list.subscribe', status: 'sent', last_error: null },
    ]);
    // Only the untouched lead's welcome went out; Mailchimp never got her address onto a list.
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]?.raw).toMatch(/^To: kim@ok\.example/m);
    expect(smtp.received.map((m) => m.raw).join('\n')).not.toMatch(/jane@acme|lee@lo/i);
    expect(mailchimp.member('list-a', 'jane@acme.example')).toBeUndefined();
    expect(mailchimp.member('list-a', 'lee@lo.example')).toBeUndefined();
    expect(mailchimp.member('list-a', 'kim@ok.example')?.status).toBe('subscribed');
    expect(enriched.sort()).toEqual(['L-OK', 'L-TYPO']);
  });
  it('cancels a list subscribe queued before the contact opted out, and delivers the unsubscribe', async () => {
    const mailchimp: MailchimpStandin = await startMailchimpStandin({ lists: ['list-a'] });
    closers.push(() => mailchimp.close());
    store = await freshStore(dialect);
    closers.push(() => store.close());
    await applyProcess(store, processYaml, T0, 'test');
    const engine = new Engine(store);
    const built = buildDeliverers(
      loadConfig({
        MAILCHIMP_API_KEY: mailchimp.apiKey,
        MAILCHIMP_BASE_URL: mailchimp.baseUrl,
        MAILCHIMP_LISTS: 'trial-nurture=list-a',
      }),
    );
    closers.push(() => built.close());
    const lists = new Map([...built.deliverers].filter(([kind]) => kind.startsWith('list.')));
    expect(
      (await engine.handle({ type: 'lead.created', lead: 'L-NO', fields: { email: 'no@no.example' } }, T0)).ok,
    ).toBe(true);
    // The subscribe is still queued when the contact says no (a form, an import, a rep).
    const out = await engine.handle({ type: 'lead.updated', lead: 'L-NO', fields: { unsubscribed: 'yes' } }, T0 + 10);
    expect(out.ok).toBe(true);
    for (let round = 0; round < 3; round++)
      await workOnce(store, engine, { deliverers: lists, now: () => T0 + 1_000 + round, sessionIdleMs: 60_000 });
    const rows = await store.db
      .selectFrom('outbox')
      .select(['kind', 'status', 'last_error'])
      .where('lead_id', '=', 'L-NO')
      .where('kind', 'like', 'list.%')
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { kind: 'list.subscribe', status: 'cancelled', last_error: 'cancelled: the contact opted out of marketing mail' },
      { kind: 'list.unsubscribe', status: 'sent', last_error: null },
    ]);
    // Mailchimp never had her as subscribed, not even for a moment.
    expect(mailchimp.member('list-a', 'no@no.example')?.status).not.toBe('subscribed');
  });
});
