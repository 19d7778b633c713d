import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Deliverer, DeliveryResult } from '../../src/integrations/delivery.js';
import { deliverOnce, describeFailure, type DeliveryFailure } from '../../src/server/deliver-outbox.js';
import { eraseContact } from '../../src/store/contact-erase.js';
import type { Store } from '../../src/store/db.js';
import {
  FINAL_ANSWER,
  LEASE_MS,
  MAX_ATTEMPTS,
  backoffMs,
  claimDue,
  recordSent,
} from '../../src/store/outbox-delivery.js';
import { TEST_PROCESS } from '../support/http.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * The worker's outbox round on both databases: claims, outcomes, backoff, dead rows, leases, and
 * kinds nobody delivers yet. The deliverers here are scripted answers: what is under test is the
 * loop and the store, not a client (those have their own tests against real local servers).
 */

const T0 = Date.parse('2026-03-02T09:00:00Z');

async function queue(
  store: Store,
  id: string,
  kind: string,
  at = T0,
  lead = 'L1',
  payload: Record<string, unknown> = { lead, n: id },
): Promise<void> {
  await store.db
    .insertInto('outbox')
    .values({
      id,
      lead_id: lead,
      kind,
      payload: JSON.stringify(payload),
      status: 'pending',
      attempts: 0,
      next_attempt_at: at,
      created_at: at,
      last_error: null,
    })
    .execute();
}

async function row(store: Store, id: string) {
  return store.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

function scripted(answers: Record<string, DeliveryResult>, seen: string[] = []): Deliverer {
  return (item) => {
    seen.push(item.id);
    return Promise.resolve(answers[item.id] ?? { status: 'sent' });
  };
}

describe.each(dialects)('outbox delivery on %s', (dialect) => {
  let store: Store;
  afterEach(() => store.close());
  const fresh = async () => {
    store = await freshStore(dialect);
    await applyProcess(store, TEST_PROCESS, T0, 'test');
  };

  it('records sent, retried and dead rows, and leaves kinds without a deliverer pending', async () => {
    await fresh();
    await queue(store, 'a', 'webhook');
    await queue(store, 'b', 'webhook');
    await queue(store, 'c', 'webhook');
    await queue(store, 'd', 'list.subscribe');
    await queue(store, 'later', 'webhook', T0 + 60_000);
    const seen: string[] = [];
    const deliverers = new Map([
      [
        'webhook',
        scripted(
          {
            a: { status: 'sent', detail: 'HTTP 204' },
            b: { status: 'retry', error: 'HTTP 503' },
            c: { status: 'dead', error: 'HTTP 404' },
          },
          seen,
        ),
      ],
    ]);
    const tally = await deliverOnce(store, { deliverers, now: () => T0, random: () => 0.5 });
    expect(tally).toEqual({ sent: 1, kept: 0, failed: 1, dead: 1, cancelled: 0 });
    expect(seen.sort()).toEqual(['a', 'b', 'c']);
    // What the far side answered, and when it was asked, stay on the row for the admin's list.
    expect(await row(store, 'a')).toMatchObject({
      status: 'sent',
      attempts: 1,
      last_error: null,
      detail: 'HTTP 204',
      last_attempt_at: T0,
    });
    expect(await row(store, 'b')).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error: 'HTTP 503',
      next_attempt_at: T0 + 30_000,
      last_attempt_at: T0,
      detail: null,
    });
    // Parked on a final answer: marked so, which replay-dead leaves dead unless told otherwise.
    expect(await row(store, 'c')).toMatchObject({
      status: 'dead',
      attempts: 1,
      last_error: 'HTTP 404',
      detail: FINAL_ANSWER,
    });
    expect(await row(store, 'd')).toMatchObject({ status: 'pending', attempts: 0, last_attempt_at: null });
    expect(await row(store, 'later')).toMatchObject({ status: 'pending' });

    // Not before its backoff; then again.
    expect(await deliverOnce(store, { deliverers, now: () => T0 + 29_000 })).toEqual({
      sent: 0,
      kept: 0,
      failed: 0,
      dead: 0,
      cancelled: 0,
    });
    seen.length = 0;
    expect(await deliverOnce(store, { deliverers, now: () => T0 + 60_000, random: () => 0.5 })).toEqual({
      sent: 1,
      kept: 0,
      failed: 1,
      dead: 0,
      cancelled: 0,
    });
    expect(seen.sort()).toEqual(['b', 'later']);
    expect(await row(store, 'b')).toMatchObject({
      status: 'failed',
      attempts: 2,
      next_attempt_at: T0 + 60_000 + 60_000,
      last_attempt_at: T0 + 60_000,
    });
  });

  it(`parks a row as dead after ${MAX_ATTEMPTS} failed tries`, async () => {
    await fresh();
    await queue(store, 'x', 'webhook');
    const deliverers = new Map([['webhook', scripted({ x: { status: 'retry', error: 'timeout' } })]]);
    let now = T0;
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      await deliverOnce(store, { deliverers, now: () => now, random: () => 1 });
      now += 8 * 3_600_000;
    }
    expect(await row(store, 'x')).toMatchObject({
      status: 'dead',
      attempts: MAX_ATTEMPTS,
      last_error: 'timeout',
      detail: null,
    });
    expect(await deliverOnce(store, { deliverers, now: () => now })).toEqual({
      sent: 0,
      kept: 0,
      failed: 0,
      dead: 0,
      cancelled: 0,
    });
  });

  it('claims a leased row again only after its lease ran out (a worker died mid-delivery)', async () => {
    await fresh();
    await queue(store, 'y', 'webhook');
    expect((await claimDue(store, ['webhook'], T0, 10)).map((i) => i.id)).toEqual(['y']);
    expect(await claimDue(store, ['webhook'], T0 + LEASE_MS - 1, 10)).toEqual([]);
    expect((await claimDue(store, ['webhook'], T0 + LEASE_MS, 10)).map((i) => i.id)).toEqual(['y']);
  });

  it("sends a lead's mailing-list rows one at a time, in order, while other work goes on", async () => {
    await fresh();
    await queue(store, 'sub', 'list.subscribe', T0);
    await queue(store, 'unsub', 'list.unsubscribe', T0 + 1);
    await queue(store, 'hook', 'webhook', T0 + 2);
    await queue(store, 'other', 'list.subscribe', T0 + 3, 'L2');
    const kinds = ['list.subscribe', 'list.unsubscribe', 'webhook'];
    const claim = async (at: number) => (await claimDue(store, kinds, at, 1)).map((i) => i.id);
    const now = T0 + 10;
    expect(await claim(now)).toEqual(['sub']);
    // While the subscribe is in flight, L1's unsubscribe waits; its webhook and L2's list row do not.
    expect(await claim(now)).toEqual(['hook']);
    expect(await claim(now)).toEqual(['other']);
    expect(await claim(now)).toEqual([]);
    await recordSent(store, 'sub', null, now);
    expect(await claim(now)).toEqual(['unsub']);
    for (const id of ['unsub', 'hook', 'other']) await recordSent(store, id, `HTTP 200 for ${id}`, now);
    // A row whose lease ran out (its worker died) no longer holds the others back.
    await queue(store, 'sub2', 'list.subscribe', now, 'L3');
    await queue(store, 'unsub2', 'list.unsubscribe', now + 1, 'L3');
    expect(await claim(now + 1)).toEqual(['sub2']);
    expect(await claim(now + 1)).toEqual([]);
    // (Which of the two goes first then does not matter: each is delivered against the lead as it is now.)
    expect(await claim(now + 1 + LEASE_MS)).toHaveLength(1);
    expect(await claim(now + 1 + LEASE_MS)).toEqual([]);
  });

  it('a stopping worker claims nothing more', async () => {
    await fresh();
    await queue(store, 'a', 'webhook');
    const seen: string[] = [];
    const deliverers = new Map([['webhook', scripted({}, seen)]]);
    expect(await deliverOnce(store, { deliverers, now: () => T0, stopping: () => true })).toEqual({
      sent: 0,
      kept: 0,
      failed: 0,
      dead: 0,
      cancelled: 0,
    });
    expect(seen).toEqual([]);
    expect(await row(store, 'a')).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('keeps retrying through a day-long outage and delivers when the far side is back', async () => {
    await fresh();
    await queue(store, 'x', 'webhook');
    const backAt = T0 + 36 * 3_600_000;
    let now = T0;
    const outage: Deliverer = () =>
      Promise.resolve(now < backAt ? { status: 'retry', error: 'HTTP 503' } : { status: 'sent', detail: 'HTTP 200' });
    const deliverers = new Map([['webhook', outage]]);
    // The shortest schedule the jitter allows, each round at the moment the row falls due.
    for (let round = 0; round < MAX_ATTEMPTS; round++) {
      await deliverOnce(store, { deliverers, now: () => now, random: () => 0 });
      const r = await row(store, 'x');
      if (r.status !== 'failed') break;
      now = r.next_attempt_at;
    }
    expect(await row(store, 'x')).toMatchObject({ status: 'sent', detail: 'HTTP 200' });
    expect(now).toBeGreaterThanOrEqual(backAt);
    // The whole schedule, even with the shortest jitter, spans more than two days.
    const span = Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => backoffMs(i, () => 0)).reduce((a, b) => a + b);
    expect(span).toBeGreaterThan(2 * 24 * 3_600_000);
  });

  it('reports each failed and dead delivery for the log, without the addresses in the error', async () => {
    await fresh();
    await queue(store, 'soft', 'webhook');
    await queue(store, 'hard', 'webhook');
    const failures: DeliveryFailure[] = [];
    const deliverers = new Map([
      [
        'webhook',
        scripted({
          soft: { status: 'retry', error: '451 <ann@acme.example> greylisted' },
          hard: { status: 'dead', error: 'HTTP 410 Gone' },
        }),
      ],
    ]);
    await deliverOnce(store, { deliverers, now: () => T0, onFailure: (f) => failures.push(f) });
    expect(failures.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'hard', kind: 'webhook', outcome: 'dead', attempts: 1, error: 'HTTP 410 Gone' },
      { id: 'soft', kind: 'webhook', outcome: 'failed', attempts: 1, error: '451 <[address]> greylisted' },
    ]);
    expect(failures.map(describeFailure).sort()).toEqual([
      'delivery of webhook hard parked as dead after 1 try: HTTP 410 Gone',
      'delivery of webhook soft failed (try 1), will retry: 451 <[address]> greylisted',
    ]);
  });

  it('treats a deliverer that throws as a retry, with the reason kept', async () => {
    await fresh();
    await queue(store, 'z', 'webhook');
    const deliverers = new Map<string, Deliverer>([['webhook', () => Promise.reject(new Error('boom'))]]);
    expect(await deliverOnce(store, { deliverers, now: () => T0, random: () => 0 })).toEqual({
      sent: 0,
      kept: 0,
      failed: 1,
      dead: 0,
      cancelled: 0,
    });
    expect(await row(store, 'z')).toMatchObject({
      status: 'failed',
      last_error: 'deliverer failed: boom',
      next_attempt_at: T0 + backoffMs(0, () => 0),
    });
  });

  it('never hands one row to two workers running at once', async () => {
    await fresh();
    for (let i = 0; i < 40; i++) await queue(store, `r${String(i).padStart(2, '0')}`, 'webhook');
    const seen: string[] = [];
    const slow: Deliverer = async (item) => {
      seen.push(item.id);
      await new Promise((r) => setTimeout(r, 2));
      return { status: 'sent' };
    };
    const deliverers = new Map([['webhook', slow]]);
    await Promise.all([1, 2, 3].map(() => deliverOnce(store, { deliverers, now: () => T0, batch: 10 })));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('cancels what would write to a suppressed address, and delivers what takes it off lists', async () => {
    await fresh();
    const engine = new Engine(store);
    expect(
      (await engine.handle({ type: 'lead.created', lead: 'L-OLD', fields: { email: 'jo@x.example' } }, T0)).ok,
    ).toBe(true);
    await eraseContact(store, 'jo@x.example', 'admin', T0);
    // A lead with the erased address again, and rows for it (as if queued before the erase reached it).
    expect(
      (await engine.handle({ type: 'lead.created', lead: 'L-NEW', fields: { email: 'jo@x.example' } }, T0)).ok,
    ).toBe(true);
    const rows: [string, string, Record<string, unknown>][] = [
      ['mail', 'email', { template: 'welcome', to: ' JO@x.example', recipient: 'contact' }],
      ['sub', 'list.subscribe', { list: 'news', email: 'jo@x.example' }],
      ['enr', 'enrich', { email: 'Jo@X.example' }],
      ['unsub', 'list.unsubscribe', { list: 'news', email: 'jo@x.example' }],
      ['erase', 'list.erase', { list: 'news', email_hash: '0'.repeat(32) }],
      ['owner', 'email', { template: 'welcome', to: 'rep-a1@test.example', recipient: 'owner' }],
    ];
    for (const [id, kind, payload] of rows) await queue(store, id, kind, T0, 'L-NEW', payload);
    const seen: string[] = [];
    const answer = scripted({}, seen);
    const deliverers = new Map(
      ['email', 'list.subscribe', 'list.unsubscribe', 'list.erase', 'enrich'].map((k) => [k, answer]),
    );
    // One at a time: a lead's mailing-list rows are never claimed while another is in flight.
    expect(await deliverOnce(store, { deliverers, now: () => T0 + 1, concurrency: 1 })).toEqual({
      sent: 3,
      kept: 0,
      failed: 0,
      dead: 0,
      cancelled: 3,
    });
    expect(seen.sort()).toEqual(['erase', 'owner', 'unsub']);
    for (const id of ['mail', 'sub', 'enr'])
      expect(await row(store, id)).toMatchObject({
        status: 'cancelled',
        last_error: 'cancelled: contact erased',
        attempts: 0,
      });
  });

  it('cancels contact mail to an address the lead no longer has', async () => {
    await fresh();
    const engine = new Engine(store);
    expect((await engine.handle({ type: 'lead.created', lead: 'L2', fields: { email: 'new@x.example' } }, T0)).ok).toBe(
      true,
    );
    await queue(store, 'old', 'email', T0, 'L2', { template: 'welcome', to: 'old@x.example', recipient: 'contact' });
    await queue(store, 'cur', 'email', T0, 'L2', { template: 'welcome', to: 'NEW@x.example', recipient: 'contact' });
    const seen: string[] = [];
    const deliverers = new Map([['email', scripted({}, seen)]]);
    await deliverOnce(store, { deliverers, now: () => T0 + 1 });
    expect(seen).toEqual(['cur']);
    expect(await row(store, 'old')).toMatchObject({
      status: 'cancelled',
      last_error: 'cancelled: the lead has another address by now',
    });
  });
});
