import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/domain/events.js';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { runReport } from '../../src/reports/run-report.js';
import { deliverOnce } from '../../src/server/deliver-outbox.js';
import { listAudit } from '../../src/store/audit.js';
import { eraseContact } from '../../src/store/contact-erase.js';
import type { Store } from '../../src/store/db.js';
import { deleteLead, LEAD_TABLES, previewLeadDeletion, UnknownLeadError } from '../../src/store/lead-delete.js';
import { dialects, freshStore } from '../support/stores.js';

/** Deleting a lead made by mistake, on a real SQLite file and a real PostgreSQL. */

/** Bob takes every lead while he has fewer than one open; Dora gets the rest. */
const PROCESS = `name: Delete
organisation: { timezone: UTC }
users:
  - { id: bob, name: Bob, capacity: { max_open: 1 } }
  - { id: dora, name: Dora }
assignment:
  default_owner: dora
  rules: [{ id: bob-first, to: { user: bob } }]
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - id: qualify
        name: Qualify
        goal: { task_done: call }
        tasks: [{ id: call, title: Discovery call, kind: call, due: { days: 1 } }]
        on_enter:
          - subscribe: { list: newsletter }
          - email: { template: welcome }
      - id: demo
        name: Demo
        on_enter: [{ webhook: { url: 'https://hooks.example/demo' } }]
templates:
  welcome: { subject: Welcome, body: Hello }
`;

const T0 = Date.parse('2026-03-02T09:00:00Z');
const DAY = 86_400_000;
const TABLES = [...LEAD_TABLES, 'outbox'] as const;

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('lead delete on %s', (dialect) => {
  async function setup(): Promise<{ store: Store; engine: Engine; at: () => number }> {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, PROCESS, T0, 'test');
    let clock = T0;
    return { store, engine: new Engine(store), at: () => (clock += 60_000) };
  }

  async function handle(engine: Engine, at: number, event: EngineEvent): Promise<void> {
    const out = await engine.handle(event, at);
    expect(out.ok, JSON.stringify(out)).toBe(true);
  }

  /** A lead with a row in every table that refers to leads: a task, an activity, a field change, mail. */
  async function busyLead(engine: Engine, at: () => number, id: string, owner?: string): Promise<void> {
    await handle(engine, at(), {
      type: 'lead.created',
      lead: id,
      fields: { name: `${id} Test`, email: `${id.toLowerCase()}@spam.test`, company: `${id} Ltd`, value: 500 },
      ...(owner ? { owner } : {}),
    });
    await handle(engine, at(), { type: 'activity.logged', lead: id, kind: 'call', note: 'spam' });
    await handle(engine, at(), { type: 'lead.updated', lead: id, fields: { value: 900 } });
  }

  async function rowsOf(store: Store, lead: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of [...TABLES, 'leads'] as const) {
      const r = await store.db
        .selectFrom(t)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where(t === 'leads' ? 'id' : 'lead_id', '=', lead)
        .executeTakeFirstOrThrow();
      out[t] = Number(r.n);
    }
    return out;
  }

  /** Everything stored about a lead, for "untouched" comparisons. */
  async function everything(store: Store, lead: string): Promise<unknown> {
    const out: Record<string, unknown> = {
      leads: await store.db.selectFrom('leads').selectAll().where('id', '=', lead).execute(),
    };
    for (const t of TABLES) out[t] = await store.db.selectFrom(t).selectAll().where('lead_id', '=', lead).execute();
    return out;
  }

  const loadOf = async (store: Store, user: string): Promise<number | undefined> =>
    (await store.db.selectFrom('routing_load').select('open_leads').where('user_id', '=', user).executeTakeFirst())
      ?.open_leads;

  it('deletes an open lead and every row of it, cancels its mail, frees its owner and is audited', async () => {
    const { store, engine, at } = await setup();
    await busyLead(engine, at, 'SPAM');
    await busyLead(engine, at, 'KEEP');
    // Bob's one open slot went to SPAM; KEEP went to Dora.
    const owners = await store.db.selectFrom('leads').select(['id', 'owner']).orderBy('id').execute();
    expect(owners).toEqual([
      { id: 'KEEP', owner: 'dora' },
      { id: 'SPAM', owner: 'bob' },
    ]);
    // The list subscription was delivered; the welcome mail is still pending.
    await store.db
      .updateTable('outbox')
      .set({ status: 'sent', attempts: 1 })
      .where('lead_id', '=', 'SPAM')
      .where('kind', '=', 'list.subscribe')
      .execute();
    const before = await rowsOf(store, 'SPAM');
    for (const t of [...LEAD_TABLES, 'leads']) expect(before[t], t).toBeGreaterThan(0);
    expect(before['outbox']).toBe(2);
    const keep = await everything(store, 'KEEP');
    expect(await loadOf(store, 'bob')).toBe(1);

    const preview = await previewLeadDeletion(store, 'SPAM');
    const done = await deleteLead(store, 'SPAM', 'mgr', T0 + DAY);

    expect(preview?.rows).toEqual(done.rows);
    expect(preview?.outboxToCancel).toBe(1);
    for (const t of LEAD_TABLES) expect(done.rows[t], t).toBe(before[t]);
    expect(done).toMatchObject({
      status: 'open',
      owner: 'bob',
      outboxCancelled: 1,
      outboxKept: 1,
      openLoadFreed: 'bob',
    });
    // Nothing of the lead is left but its outbox rows: the delivered one as it was, the other cancelled.
    expect(await rowsOf(store, 'SPAM')).toEqual({
      ...Object.fromEntries(TABLES.map((t) => [t, 0])),
      outbox: 2,
      leads: 0,
    });
    const outbox = await store.db
      .selectFrom('outbox')
      .select(['kind', 'status', 'last_error'])
      .where('lead_id', '=', 'SPAM')
      .orderBy('kind')
      .execute();
    expect(outbox).toEqual([
      { kind: 'email', status: 'cancelled', last_error: 'cancelled: lead deleted' },
      { kind: 'list.subscribe', status: 'sent', last_error: null },
    ]);
    expect(await everything(store, 'KEEP')).toEqual(keep);

    // Bob's cap freed up: the next lead is his again.
    expect(await loadOf(store, 'bob')).toBe(0);
    await handle(engine, T0 + DAY + 1, { type: 'lead.created', lead: 'NEXT', fields: {} });
    expect(
      (await store.db.selectFrom('leads').select('owner').where('id', '=', 'NEXT').executeTakeFirst())?.owner,
    ).toBe('bob');

    const [entry] = await listAudit(store.db, { action: 'lead.deleted' });
    expect(entry).toMatchObject({
      actor: 'mgr',
      target: 'SPAM',
      at: T0 + DAY,
      details: { lead: 'SPAM', owner: 'bob', status: 'open', value_minor: 90_000, outbox_cancelled: 1 },
    });
    // Kept forever, so no personal data: not the name, the address, or the company (a sole
    // trader's company is their name, and an erasure never reaches the audit log).
    expect(entry?.details).not.toHaveProperty('company');
    expect(JSON.stringify(entry)).not.toMatch(/SPAM Test|spam\.test|SPAM Ltd/);

    const late = await engine.handle({ type: 'activity.logged', lead: 'SPAM', kind: 'call' }, T0 + DAY + 2);
    expect(late.ok ? 'ok' : late.error.code).toBe('unknown_lead');
  });

  it("never cancels an erased contact's mailing-list deletes: they stay pending and are delivered", async () => {
    const { store, engine, at } = await setup();
    await busyLead(engine, at, 'GONE');
    await handle(engine, at(), { type: 'lead.updated', lead: 'GONE', fields: { email: 'gone2@spam.test' } });
    await eraseContact(store, 'gone2@spam.test', 'dpo', at());
    const erasures = () =>
      store.db
        .selectFrom('outbox')
        .select(['status', 'last_error'])
        .where('lead_id', '=', 'GONE')
        .where('kind', '=', 'list.erase')
        .execute();
    // The newsletter, under the current and the earlier address.
    expect(await erasures()).toEqual([
      { status: 'pending', last_error: null },
      { status: 'pending', last_error: null },
    ]);

    expect((await previewLeadDeletion(store, 'GONE'))?.outboxToCancel).toBe(0);
    const done = await deleteLead(store, 'GONE', 'admin', at());
    expect(done.outboxCancelled).toBe(0);
    expect(await erasures()).toEqual([
      { status: 'pending', last_error: null },
      { status: 'pending', last_error: null },
    ]);

    const erased: string[] = [];
    const deliverers = new Map([
      [
        'list.erase',
        (item: { id: string }) => {
          erased.push(item.id);
          return Promise.resolve({ status: 'sent' as const });
        },
      ],
    ]);
    await deliverOnce(store, { deliverers, now: at, concurrency: 1 });
    expect(erased).toHaveLength(2);
    expect(await erasures()).toEqual([
      { status: 'sent', last_error: null },
      { status: 'sent', last_error: null },
    ]);
  });

  it('leaves the open-lead count of a closed lead alone, and the reports stop counting it', async () => {
    const { store, engine, at } = await setup();
    await busyLead(engine, at, 'WON');
    await handle(engine, at(), { type: 'lead.won', lead: 'WON' });
    await busyLead(engine, at, 'LOST');
    await handle(engine, at(), { type: 'lead.lost', lead: 'LOST', reason: 'budget' });
    await busyLead(engine, at, 'OPEN');
    expect(await loadOf(store, 'bob')).toBe(1);
    const winRate = async () =>
      (await runReport(store, { name: 'win-rate', from: '2026-03-01', to: '2026-03-31', now: T0 + DAY })).rows;
    expect(await winRate()).toEqual([expect.objectContaining({ won: 1, lost: 1, closed: 2, cohort: 3 })]);

    const done = await deleteLead(store, 'WON', 'admin', T0 + DAY);

    expect(done).toMatchObject({ status: 'won', openLoadFreed: null });
    expect(await loadOf(store, 'bob')).toBe(1);
    expect(await winRate()).toEqual([expect.objectContaining({ won: 0, lost: 1, closed: 1, cohort: 2 })]);
  });

  it('races engine events on the same lead: each event ran before the delete or finds no lead', async () => {
    const { store, engine, at } = await setup();
    for (let round = 0; round < 15; round++) {
      const id = `RACE${round}`;
      await busyLead(engine, at, id);
      const t = at();
      const [deleted, ...events] = await Promise.all([
        deleteLead(store, id, 'mgr', t),
        ...[0, 1, 2].map((i) =>
          engine.handle({ type: 'activity.logged', lead: id, kind: 'call', note: `race ${i}` }, t + i),
        ),
      ]);
      expect(deleted.lead).toBe(id);
      for (const e of events) expect(e.ok ? 'ok' : e.error.code).toMatch(/^(ok|unknown_lead)$/);
      expect(await rowsOf(store, id)).toMatchObject({
        ...Object.fromEntries(LEAD_TABLES.map((x) => [x, 0])),
        leads: 0,
      });
    }
    expect(await loadOf(store, 'bob')).toBe(0);
  });

  it("a lead created again under a deleted one's id gets every effect, under keys of its own; the old messages stay as they were", async () => {
    const { store, engine, at } = await setup();
    const outboxOf = () =>
      store.db
        .selectFrom('outbox')
        .select(['id', 'status', 'payload'])
        .where('lead_id', '=', 'DUP')
        .orderBy('id')
        .execute();
    const live = async (email: string): Promise<void> => {
      await handle(engine, at(), { type: 'lead.created', lead: 'DUP', fields: { name: 'Dup', email } });
      // A later event with an effect: its key must not meet a deleted lead's either.
      await handle(engine, at(), { type: 'lead.moved', lead: 'DUP', stage: 'demo', override: false });
    };
    await live('first@dup.test');
    // The subscribe was delivered before the lead was deleted: delivery history to keep.
    await store.db.updateTable('outbox').set({ status: 'sent' }).where('kind', '=', 'list.subscribe').execute();
    await deleteLead(store, 'DUP', 'mgr', at());
    const kept = await store.db.selectFrom('outbox').selectAll().where('lead_id', '=', 'DUP').orderBy('id').execute();
    expect(kept.map((r) => [r.id, r.status])).toEqual([
      ['DUP:1:0:list.subscribe', 'sent'],
      ['DUP:1:1:email', 'cancelled'],
      ['DUP:2:0:webhook', 'cancelled'],
    ]);

    for (const [life, email] of [
      [2, 'second@dup.test'],
      [3, 'third@dup.test'],
    ] as const) {
      await live(email);
      const mine = (await outboxOf()).filter((r) => r.id.endsWith(`:${life}`));
      expect(mine.map((r) => [r.id, r.status, (JSON.parse(r.payload) as { email?: string }).email])).toEqual([
        [`DUP:1:0:list.subscribe:${life}`, 'pending', email],
        [`DUP:1:1:email:${life}`, 'pending', undefined],
        [`DUP:2:0:webhook:${life}`, 'pending', undefined],
      ]);
      if (life === 2) await deleteLead(store, 'DUP', 'mgr', at());
    }
    // The first lead's messages are exactly as the delete left them.
    expect(
      await store.db
        .selectFrom('outbox')
        .selectAll()
        .where(
          'id',
          'in',
          kept.map((r) => r.id),
        )
        .orderBy('id')
        .execute(),
    ).toEqual(kept);
  });

  it('refuses an unknown lead by name and changes nothing', async () => {
    const { store } = await setup();
    await expect(deleteLead(store, 'NOPE', 'mgr', T0)).rejects.toThrow(new UnknownLeadError('NOPE'));
    await expect(deleteLead(store, 'NOPE', 'mgr', T0)).rejects.toThrow('lead "NOPE" does not exist');
    expect(await previewLeadDeletion(store, 'NOPE')).toBeNull();
    expect(await listAudit(store.db, { action: 'lead.deleted' })).toEqual([]);
  });
});
