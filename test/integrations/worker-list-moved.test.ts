import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { buildDeliverers } from '../../src/integrations/index.js';
import { workOnce } from '../../src/server/worker.js';
import { startMailchimpStandin } from '../support/mailchimp-standin.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * A list subscribe still queued for an address its lead no longer has (a corrected typo, a
 * successor) is cancelled with the reason, as such contact mail is: recorded as sent, it would
 * count among the deliveries although nothing reached Mailchimp.
 */

const T0 = Date.parse('2026-03-02T09:00:00Z');

const PROCESS = `
name: Lists follow the address
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
        on_enter: [{ subscribe: { list: trial-nurture } }]
assignment:
  default_owner: anna
`;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe.each(dialects)('a list subscribe for a moved address on %s', (dialect) => {
  it('is cancelled, not recorded as sent; the new address is subscribed', async () => {
    const mailchimp = await startMailchimpStandin({ lists: ['list-a'] });
    closers.push(() => mailchimp.close());
    const store = await freshStore(dialect);
    closers.push(() => store.close());
    await applyProcess(store, PROCESS, T0, 'test');
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

    expect((await engine.handle({ type: 'lead.created', lead: 'L1', fields: { email: 'old@x.example' } }, T0)).ok).toBe(
      true,
    );
    // The address is corrected while the first subscribe still waits (Mailchimp down, or slow).
    const lead = await store.db.selectFrom('leads').select('version').where('id', '=', 'L1').executeTakeFirstOrThrow();
    const moved = await engine.handle(
      { type: 'lead.updated', lead: 'L1', fields: { email: 'new@x.example' } },
      T0 + 10,
      lead.version,
    );
    expect(moved.ok).toBe(true);
    for (let round = 0; round < 3; round++)
      await workOnce(store, engine, { deliverers: lists, now: () => T0 + 1_000 + round, sessionIdleMs: 60_000 });

    const rows = await store.db
      .selectFrom('outbox')
      .select(['kind', 'status', 'attempts', 'last_error'])
      .where('lead_id', '=', 'L1')
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      {
        kind: 'list.subscribe',
        status: 'cancelled',
        attempts: 0,
        last_error: 'cancelled: the lead has another address by now',
      },
      { kind: 'list.unsubscribe', status: 'sent', attempts: 1, last_error: null },
      { kind: 'list.subscribe', status: 'sent', attempts: 1, last_error: null },
    ]);
    expect(mailchimp.member('list-a', 'old@x.example')?.status).not.toBe('subscribed');
    expect(mailchimp.member('list-a', 'new@x.example')?.status).toBe('subscribed');
  });
});
