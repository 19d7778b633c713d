import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { DeliveryContext, LeadSnapshot, OutboxItem } from '../../src/integrations/delivery.js';
import { buildDeliverers } from '../../src/integrations/index.js';
import { MailchimpClient, dataCentreOf } from '../../src/integrations/mailchimp/client.js';
import { mailchimpDeliverer } from '../../src/integrations/mailchimp/deliver.js';
import { workOnce } from '../../src/server/worker.js';
import { eraseContact } from '../../src/store/contact-erase.js';
import type { Store } from '../../src/store/db.js';
import { startMailchimpStandin, subscriberHash, type MailchimpStandin } from '../support/mailchimp-standin.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Mailing lists against a local server that behaves like Mailchimp's API as documented, failures
 * included (test/support/mailchimp-standin.ts): first the deliverer row by row, then the worker
 * delivering what a process's automations and a contact's erasure queued.
 */

const NOW = Date.UTC(2026, 2, 2, 9, 0);
const LISTS = new Map([
  ['trial-nurture', 'list-a'],
  ['customers', 'list-b'],
]);

const standins: MailchimpStandin[] = [];
afterEach(async () => {
  for (const s of standins.splice(0)) await s.close();
});

async function standin(): Promise<MailchimpStandin> {
  const s = await startMailchimpStandin({ lists: ['list-a', 'list-b'] });
  standins.push(s);
  return s;
}

function clientFor(s: MailchimpStandin, o: { timeoutMs?: number; maxConnections?: number; apiKey?: string } = {}) {
  return new MailchimpClient({ baseUrl: s.baseUrl, ...o, apiKey: o.apiKey ?? s.apiKey });
}

let rowSeq = 0;
function row(kind: string, payload: Record<string, unknown>, attempts = 0): OutboxItem {
  return { id: `row-${++rowSeq}`, lead: 'L1', kind, payload, attempts, createdAt: NOW };
}

function lead(over: Partial<LeadSnapshot> = {}): LeadSnapshot {
  return {
    id: 'L1',
    fields: { email: 'Lisa@Buyer.example', first_name: 'Lisa', last_name: 'Lind' },
    owner: 'anna',
    pipeline: 'sales',
    stage: 'trial',
    status: 'open',
    lists: ['trial-nurture'],
    ...over,
  };
}

function ctx(l: LeadSnapshot | null = lead()): DeliveryContext {
  return { process: {} as never, lead: l, now: NOW };
}

const subscribeRow = (over: Record<string, unknown> = {}) =>
  row('list.subscribe', {
    list: 'trial-nurture',
    email: 'Lisa@Buyer.example',
    tags: ['trial'],
    firstName: 'Lisa',
    lastName: 'Lind',
    ...over,
  });

describe('the Mailchimp client and deliverer', () => {
  it('takes the data centre from the key and refuses a key without one', () => {
    expect(dataCentreOf('0123abcd-us14')).toBe('us14');
    expect(() => dataCentreOf('0123abcd')).toThrow(/data centre/);
    expect(() => new MailchimpClient({ apiKey: 'nodc' })).toThrow(/data centre/);
  });

  it('subscribes a new member with merge fields and tags, authenticated by the key', async () => {
    const s = await standin();
    const deliver = mailchimpDeliverer({ client: clientFor(s), lists: LISTS });
    const out = await deliver(subscribeRow(), ctx());
    expect(out).toEqual({ status: 'sent', detail: 'subscribed to trial-nurture, tagged trial' });
    const member = s.member('list-a', 'lisa@buyer.example');
    expect(member).toMatchObject({ status: 'subscribed', merge_fields: { FNAME: 'Lisa', LNAME: 'Lind' } });
    expect(member?.tags).toEqual(['trial']);
    const put = s.requests.find((r) => r.method === 'PUT');
    expect(put?.path).toBe(`/3.0/lists/list-a/members/${subscriberHash('lisa@buyer.example')}`);
    const [, password] = Buffer.from((put?.authorization ?? '').replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    expect(password).toBe(s.apiKey);
    expect(put?.body).toMatchObject({ email_address: 'Lisa@Buyer.example', status_if_new: 'subscribed' });
    expect(put?.body).not.toHaveProperty('status');
  });

  it('leaves an unsubscribed member unsubscribed and tells the rep, without marking the lead opted out', async () => {
    const s = await standin();
    const client = clientFor(s);
    const hash = subscriberHash('lisa@buyer.example');
    await client.upsertMember('list-a', 'lisa@buyer.example', { statusIfNew: 'subscribed', mergeFields: {} });
    expect((await client.setStatus('list-a', hash, 'unsubscribed')).kind).toBe('done');
    const out = await mailchimpDeliverer({ client, lists: LISTS })(subscribeRow({ tags: [] }), ctx());
    // Mailchimp does not say who unsubscribed them (perhaps an earlier automation of ours), so the
    // lead is not marked as opted out of Stageflow's own mail; the rep sees a note.
    expect(out).toEqual({
      status: 'sent',
      detail: 'Mailchimp keeps the contact off trial-nurture: the contact is unsubscribed there; left as is',
      followUp: {
        activity: {
          kind: 'mailing_list',
          note: 'Mailchimp keeps the contact off trial-nurture: the contact is unsubscribed there',
        },
      },
    });
    expect(s.member('list-a', 'lisa@buyer.example')?.status).toBe('unsubscribed');
    const put = s.requests.filter((r) => r.method === 'PUT').at(-1);
    expect(put?.body).not.toHaveProperty('status');
  });

  it('does not fight a member in compliance state', async () => {
    const s = await standin();
    const deliver = mailchimpDeliverer({ client: clientFor(s), lists: LISTS });
    s.putInComplianceState('list-a', 'lisa@buyer.example');
    const out = await deliver(subscribeRow({ tags: [] }), ctx());
    expect(out).toMatchObject({ status: 'sent', followUp: { activity: { kind: 'mailing_list' } } });
    expect(s.member('list-a', 'lisa@buyer.example')?.status).toBe('unsubscribed');
    expect(s.requests.filter((r) => r.status >= 400)).toEqual([]);
  });

  it('keeps addresses out of the errors it records, since an outbox row outlives an erasure', async () => {
    const s = await standin();
    const deliver = mailchimpDeliverer({ client: clientFor(s), lists: LISTS });
    await deliver(subscribeRow(), ctx());
    const hash = subscriberHash('lisa@buyer.example');
    await deliver(row('list.erase', { lead: 'L1', list: 'trial-nurture', email_hash: hash }), ctx(null));
    const refused = await deliver(subscribeRow(), ctx());
    expect(refused.status).toBe('dead');
    const error = refused.status === 'dead' ? refused.error : '';
    expect(error).toContain('Forgotten Email Not Subscribed');
    expect(error).toContain('[address]');
    expect(error.toLowerCase()).not.toContain('lisa@buyer.example');
  });

  it('an erase or unsubscribe that meets a 404 is done only if the audience exists', async () => {
    const s = await standin();
    const mistyped = mailchimpDeliverer({ client: clientFor(s), lists: new Map([['trial-nurture', 'list-typo']]) });
    const hash = subscriberHash('lisa@buyer.example');
    expect(
      await mistyped(row('list.erase', { lead: 'L1', list: 'trial-nurture', email_hash: hash }), ctx(null)),
    ).toEqual({
      status: 'dead',
      error:
        'Mailchimp has no audience list-typo (MAILCHIMP_LISTS maps trial-nurture to it): fix the mapping and replay',
    });
    const unsub = row('list.unsubscribe', { list: 'trial-nurture', email: 'lisa@buyer.example' });
    expect((await mistyped(unsub, ctx(lead({ lists: [] })))).status).toBe('dead');
    // While Mailchimp is overloaded the check itself is retried, not taken as a missing audience.
    s.failNext({ status: 404 }, { status: 503 });
    const right = mailchimpDeliverer({ client: clientFor(s), lists: LISTS });
    expect(
      (await right(row('list.erase', { lead: 'L1', list: 'trial-nurture', email_hash: hash }), ctx(null))).status,
    ).toBe('retry');
  });

  it('unsubscribes a member, and treats a non-member as nothing to do', async () => {
    const s = await standin();
    const deliver = mailchimpDeliverer({ client: clientFor(s), lists: LISTS });
    await deliver(subscribeRow(), ctx());
    const unsub = row('list.unsubscribe', { list: 'trial-nurture', email: 'lisa@buyer.example' });
    expect(await deliver(unsub, ctx(lead({ lists: [] })))).toEqual({
      status: 'sent',
      detail: 'unsubscribed from trial-nurture',
    });
    expect(s.member('list-a', 'lisa@buyer.example')?.status).toBe('unsubscribed');
    const stranger = row('list.unsubscribe', { list: 'trial-nurture', email: 'nobody@buyer.example' });
    expect(await deliver(stranger, ctx(lead({ lists: [] })))).toEqual({
      status: 'sent',
      detail: 'not a member of trial-nurture: nothing to unsubscribe',
    });
  });

  it('delivers against the lead as it is now, so late rows cannot undo later ones', async () => {
    const s = await standin();
    const deliver = mailchimpDeliverer({ client: clientFor(s), lists: LISTS });
    // A subscribe retried after the lead became a customer and left the list: no call at all.
    expect(await deliver(subscribeRow(), ctx(lead({ lists: [] })))).toEqual({
      status: 'sent',
      detail: 'not sent: the lead has left trial-nurture since',
    });
    // An unsubscribe delivered after the lead came back to the list: no call either.
    const unsub = row('list.unsubscribe', { list: 'trial-nurture', email: 'lisa@buyer.example' });
    expect(await deliver(unsub, ctx())).toEqual({
      status: 'sent',
      detail: 'not sent: the lead is on trial-nurture again',
    });
    // A subscribe for an address the lead no longer has.
    const moved = lead({ fields: { email: 'lisa@new-employer.example' } });
    expect((await deliver(subscribeRow(), ctx(moved))).status).toBe('sent');
    expect(s.requests).toHaveLength(0);
  });

  it('erases a member permanently by hash, after which Mailchimp refuses the address for good', async () => {
    const s = await standin();
    const deliver = mailchimpDeliverer({ client: clientFor(s), lists: LISTS });
    await deliver(subscribeRow(), ctx());
    const hash = subscriberHash('lisa@buyer.example');
    const erase = row('list.erase', { lead: 'L1', list: 'trial-nurture', email_hash: hash });
    expect(await deliver(erase, ctx(null))).toEqual({ status: 'sent', detail: 'permanently deleted' });
    expect(s.isForgotten('list-a', 'lisa@buyer.example')).toBe(true);
    // A second erase finds nobody: done, not an error.
    expect(await deliver(erase, ctx(null))).toEqual({ status: 'sent', detail: 'not a member: nothing to erase' });

    // Subscribing the forgotten address again is refused for good: dead, and the reason goes on the lead.
    const again = await deliver(subscribeRow(), ctx());
    expect(again).toMatchObject({
      status: 'dead',
      error: expect.stringContaining('Forgotten Email Not Subscribed') as string,
      followUp: {
        activity: {
          kind: 'mailing_list',
          note: 'Mailchimp refused to subscribe the contact to trial-nurture: Forgotten Email Not Subscribed',
        },
      },
    });
  });

  it('retries what Mailchimp says is load or an outage, and parks what no retry can change', async () => {
    const s = await standin();
    const deliver = mailchimpDeliverer({ client: clientFor(s, { timeoutMs: 300 }), lists: LISTS });
    const attempt = async () => deliver(subscribeRow({ tags: [] }), ctx());

    s.failNext({ status: 429 });
    expect(await attempt()).toMatchObject({ status: 'retry', error: expect.stringContaining('HTTP 429') as string });
    s.failNext({ status: 503, body: 'html' });
    expect(await attempt()).toMatchObject({ status: 'retry', error: expect.stringContaining('HTTP 503') as string });
    s.failNext({ status: 403, body: 'none' });
    expect(await attempt()).toMatchObject({ status: 'retry', error: expect.stringContaining('HTTP 403') as string });
    s.failNext('drop');
    expect(await attempt()).toMatchObject({
      status: 'retry',
      error: expect.stringContaining('network error') as string,
    });
    s.failNext({ delayMs: 1_000 });
    expect(await attempt()).toMatchObject({ status: 'retry', error: expect.stringContaining('timed out') as string });
    expect(s.member('list-a', 'lisa@buyer.example')).toBeUndefined();

    // A 403 with a problem body is a real refusal (e.g. a disabled account): dead, and not the lead's business.
    s.failNext({ status: 403, body: 'problem' });
    const forbidden = await attempt();
    expect(forbidden.status).toBe('dead');
    expect(forbidden).not.toHaveProperty('followUp');

    // The same row goes through once Mailchimp answers normally again.
    expect(await attempt()).toMatchObject({ status: 'sent' });
    expect(s.member('list-a', 'lisa@buyer.example')?.status).toBe('subscribed');
  });

  it('parks rows for a wrong key, an unknown audience or an unmapped list, without blaming the lead', async () => {
    const s = await standin();
    const wrongKey = mailchimpDeliverer({ client: clientFor(s, { apiKey: 'wrong0000-us14' }), lists: LISTS });
    const badKey = await wrongKey(subscribeRow(), ctx());
    expect(badKey).toMatchObject({ status: 'dead', error: expect.stringContaining('HTTP 401') as string });
    expect(badKey).not.toHaveProperty('followUp');

    const unknownAudience = mailchimpDeliverer({ client: clientFor(s), lists: new Map([['trial-nurture', 'nope']]) });
    const missing = await unknownAudience(subscribeRow(), ctx());
    expect(missing).toMatchObject({ status: 'dead', error: expect.stringContaining('HTTP 404') as string });
    expect(missing).not.toHaveProperty('followUp');

    const unmapped = mailchimpDeliverer({ client: clientFor(s), lists: new Map() });
    expect(await unmapped(subscribeRow(), ctx())).toEqual({
      status: 'dead',
      error:
        'list "trial-nurture" has no Mailchimp audience: add trial-nurture=<audience id> to MAILCHIMP_LISTS and replay',
    });
  });

  it('never has more calls in flight than its connection cap', async () => {
    const s = await standin();
    const client = clientFor(s, { maxConnections: 3 });
    s.failNext(...Array.from({ length: 12 }, () => ({ delayMs: 60 })));
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        client.upsertMember('list-a', `buyer${i}@buyer.example`, { statusIfNew: 'subscribed', mergeFields: {} }),
      ),
    );
    expect(outcomes.map((o) => o.kind)).toEqual(Array.from({ length: 12 }, () => 'done'));
    expect(s.maxInFlight).toBe(3);
  });

  it('caps a worker at MAILCHIMP_CONCURRENCY calls in flight, its share of the account’s 10', async () => {
    const s = await standin();
    const d = buildDeliverers(
      loadConfig({
        MAILCHIMP_API_KEY: s.apiKey,
        MAILCHIMP_BASE_URL: s.baseUrl,
        MAILCHIMP_LISTS: 'trial-nurture=list-a',
        MAILCHIMP_CONCURRENCY: '2',
      }),
    );
    const deliver = d.deliverers.get('list.subscribe');
    if (!deliver) throw new Error('no list deliverer');
    s.failNext(...Array.from({ length: 8 }, () => ({ delayMs: 60 })));
    const emails = Array.from({ length: 6 }, (_, i) => `buyer${i}@buyer.example`);
    const outcomes = await Promise.all(
      emails.map((email) => deliver(subscribeRow({ email, tags: [] }), ctx(lead({ fields: { email } })))),
    );
    await d.close();
    expect(outcomes.map((o) => o.status)).toEqual(emails.map(() => 'sent'));
    expect(s.maxInFlight).toBe(2);
  });
});

const processYaml = `
name: Mailing lists
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna Owner, email: anna@seller.example }
pipelines:
  - id: sales
    name: Sales
    default: true
    stages:
      - id: trial
        name: Trial
        on_enter:
          - subscribe: { list: trial-nurture, tags: [trial] }
      - id: customer
        name: Customer
        on_enter:
          - unsubscribe: { list: trial-nurture }
assignment:
  default_owner: anna
`;

describe.each(dialects)('the worker keeps Mailchimp in step with the process on %s', (dialect) => {
  let store: Store;
  afterEach(async () => {
    await store.close();
  });

  it('subscribes at the trial stage, unsubscribes at customer, erases on request, and logs a refusal on the lead', async () => {
    const s = await standin();
    store = await freshStore(dialect);
    await applyProcess(store, processYaml, NOW, 'test');
    const engine = new Engine(store);
    const config = loadConfig({
      MAILCHIMP_API_KEY: s.apiKey,
      MAILCHIMP_BASE_URL: s.baseUrl,
      MAILCHIMP_LISTS: 'trial-nurture=list-a',
    });
    const { deliverers, close } = buildDeliverers(config);
    const round = (at: number) => workOnce(store, engine, { deliverers, now: () => at, sessionIdleMs: 60_000 });
    const outbox = (lead: string) =>
      store.db
        .selectFrom('outbox')
        .select(['kind', 'status', 'last_error'])
        .where('lead_id', '=', lead)
        .orderBy('created_at')
        .orderBy('id')
        .execute();

    try {
      const created = await engine.handle(
        { type: 'lead.created', lead: 'L1', fields: { email: 'lisa@buyer.example', first_name: 'Lisa' } },
        NOW,
      );
      expect(created.ok).toBe(true);
      await round(NOW + 1_000);
      expect(s.member('list-a', 'lisa@buyer.example')).toMatchObject({ status: 'subscribed', tags: ['trial'] });

      await engine.handle({ type: 'lead.moved', lead: 'L1', stage: 'customer', override: false }, NOW + 2_000);
      await round(NOW + 3_000);
      expect(s.member('list-a', 'lisa@buyer.example')?.status).toBe('unsubscribed');
      expect(await outbox('L1')).toEqual([
        { kind: 'list.subscribe', status: 'sent', last_error: null },
        { kind: 'list.unsubscribe', status: 'sent', last_error: null },
      ]);

      const erased = await eraseContact(store, 'lisa@buyer.example', 'admin', NOW + 4_000);
      expect(erased.listErasures.map((e) => e.list)).toEqual(['trial-nurture']);
      await round(NOW + 5_000);
      expect(s.isForgotten('list-a', 'lisa@buyer.example')).toBe(true);
      expect((await outbox('L1')).map((r) => [r.kind, r.status])).toContainEqual(['list.erase', 'sent']);

      // Another lead with an address Mailchimp has forgotten: refused for good, and the rep can see why.
      const forgotten = await fetch(`${s.baseUrl}/lists/list-a/members/${subscriberHash('max@buyer.example')}`, {
        method: 'PUT',
        headers: { authorization: `Basic ${Buffer.from(`x:${s.apiKey}`).toString('base64')}` },
        body: JSON.stringify({ email_address: 'max@buyer.example', status_if_new: 'subscribed' }),
      });
      expect(forgotten.status).toBe(200);
      await fetch(`${s.baseUrl}/lists/list-a/members/${subscriberHash('max@buyer.example')}/actions/delete-permanent`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`x:${s.apiKey}`).toString('base64')}` },
      });
      await engine.handle({ type: 'lead.created', lead: 'L2', fields: { email: 'max@buyer.example' } }, NOW + 6_000);
      await round(NOW + 7_000);
      const [refused] = await outbox('L2');
      expect(refused).toMatchObject({ kind: 'list.subscribe', status: 'dead' });
      expect(refused?.last_error).toContain('Forgotten Email Not Subscribed');
      expect(refused?.last_error).toContain('(logged on the lead)');
      const activities = await store.db
        .selectFrom('activities')
        .select(['kind', 'note', 'actor'])
        .where('lead_id', '=', 'L2')
        .execute();
      expect(activities).toHaveLength(1);
      expect(activities[0]).toMatchObject({
        kind: 'mailing_list',
        note: 'Mailchimp refused to subscribe the contact to trial-nurture: Forgotten Email Not Subscribed',
      });
    } finally {
      await close();
    }
  });

  it('leaves mailing-list rows pending while no Mailchimp key is set', async () => {
    store = await freshStore(dialect);
    await applyProcess(store, processYaml, NOW, 'test');
    const engine = new Engine(store);
    const { deliverers, close } = buildDeliverers(loadConfig({}));
    try {
      await engine.handle({ type: 'lead.created', lead: 'L1', fields: { email: 'lisa@buyer.example' } }, NOW);
      await workOnce(store, engine, { deliverers, now: () => NOW + 1_000, sessionIdleMs: 60_000 });
      const rows = await store.db.selectFrom('outbox').select(['kind', 'status', 'attempts']).execute();
      expect(rows).toEqual([{ kind: 'list.subscribe', status: 'pending', attempts: 0 }]);
    } finally {
      await close();
    }
  });
});
