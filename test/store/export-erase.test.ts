import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { EngineEvent } from '../../src/domain/events.js';
import { listAudit } from '../../src/store/audit.js';
import { eraseContact } from '../../src/store/contact-erase.js';
import { contactKeys, type ContactKeys } from '../../src/store/contact-keys.js';
import { exportContact } from '../../src/store/contact-export.js';
import { ContactError } from '../../src/store/contact.js';
import type { Store } from '../../src/store/db.js';
import { exportRows, type ExportFilter, type ExportKind, type ExportRow } from '../../src/store/export.js';
import { isSuppressed } from '../../src/store/suppressions.js';
import { T0 } from '../support/process-fixtures.js';
import { dialects, freshStore } from '../support/stores.js';

/** Bulk export, a contact's data export and erasure, on a real SQLite file and a real PostgreSQL. */

const PRIVACY_PROCESS = `name: Privacy
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna, email: anna@example.com }
assignment:
  default_owner: anna
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - id: qualify
        name: Qualify
        goal: { task_done: call }
        tasks: [{ id: call, title: Discovery call, kind: call, due: { business_days: 1 } }]
        on_enter:
          - subscribe: { list: newsletter, tags: [lead] }
          - email: { template: welcome }
      - id: demo
        name: Demo
        on_enter: [{ enrich: true }]
      - id: close
        name: Close
templates:
  welcome: { subject: Welcome, body: Hello }
`;

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const JANE = 'jane.doe@example.com';
/** Every piece of Jane's data the fixtures write; none may survive an erase (none is valid hex). */
const JANE_TRACES = ['jane', 'doe', 'old.test', 'corp.test', '555 0199', 'call me back'];

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function collect(store: Store, kind: ExportKind, filter: ExportFilter = {}, page?: number): Promise<ExportRow[]> {
  const rows: ExportRow[] = [];
  for await (const r of exportRows(store.db, kind, filter, page)) rows.push(r);
  return rows;
}

describe.each(dialects)('export and erase on %s', (dialect) => {
  /**
   * Jane has two leads (L1 under an address she later corrected, L2 in other case); Bob has L3.
   * L1's first list subscription was delivered, everything else is still pending.
   */
  async function setup(): Promise<{ store: Store; engine: Engine; keys: ContactKeys }> {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, PRIVACY_PROCESS, T0, 'test');
    const engine = new Engine(store);
    const events: EngineEvent[] = [
      {
        type: 'lead.created',
        lead: 'L1',
        fields: {
          name: 'Jane Doe',
          first_name: 'Jane',
          last_name: 'Doe',
          email: 'jane@old.test',
          work_email: 'jd@corp.test',
          phone: '+49 30 555 0199',
          value: 1200.5,
          territory: 'de',
        },
      },
      { type: 'lead.updated', lead: 'L1', fields: { email: 'Jane.Doe@Example.com' } },
      { type: 'activity.logged', lead: 'L1', kind: 'meeting', note: 'Jane: call me back' },
      { type: 'activity.logged', lead: 'L1', kind: 'call' },
      { type: 'task.completed', lead: 'L1', task: 'call' },
      {
        type: 'lead.created',
        lead: 'L2',
        fields: { name: 'Jane D.', email: ' JANE.DOE@example.com', value: 80 },
      },
      { type: 'lead.created', lead: 'L3', fields: { name: 'Bob', email: 'bob@other.test', value: 10 } },
    ];
    for (const [i, event] of events.entries()) {
      const out = await engine.handle(event, T0 + i * 60_000);
      expect(out.ok).toBe(true);
    }
    await store.db
      .updateTable('outbox')
      // A far side's answer can quote the address: the erase must scrub it too.
      .set({ status: 'sent', attempts: 1, detail: 'subscribed jane.doe@example.com to newsletter' })
      .where('id', '=', 'L1:1:0:list.subscribe')
      .execute();
    return { store, engine, keys: await contactKeys(store.db) };
  }

  /** Business figures that reports read: an erase must leave them exactly as they were. */
  async function figures(store: Store): Promise<unknown> {
    return {
      leads: await store.db
        .selectFrom('leads')
        .select(['id', 'pipeline', 'stage', 'status', 'owner', 'value_minor', 'territory', 'created_at', 'seq'])
        .orderBy('id')
        .execute(),
      stays: await collect(store, 'stays'),
      tasks: await collect(store, 'tasks'),
      owners: await store.db.selectFrom('owner_history').selectAll().orderBy('lead_id').orderBy('seq').execute(),
    };
  }

  /** Everything stored about the given leads, as text to search for traces. */
  async function dump(store: Store, ids: string[]): Promise<string> {
    const tables = ['leads', 'events', 'field_history', 'run_log', 'activities', 'outbox'] as const;
    const parts: unknown[] = [];
    for (const t of tables) {
      const col = t === 'leads' ? 'id' : 'lead_id';
      parts.push(await store.db.selectFrom(t).selectAll().where(col, 'in', ids).execute());
    }
    return JSON.stringify(parts).toLowerCase();
  }

  it('exports every table page by page, with ISO times and money in major units', async () => {
    const { store } = await setup();
    const leads = await collect(store, 'leads');
    expect(leads.map((l) => l.id)).toEqual(['L1', 'L2', 'L3']);
    expect(leads[0]).toMatchObject({
      name: 'Jane Doe',
      email: 'Jane.Doe@Example.com',
      stage: 'demo',
      status: 'open',
      owner: 'anna',
      value: 1200.5,
      value_minor: 120050,
      created_at: new Date(T0).toISOString(),
      fields: { territory: 'de', work_email: 'jd@corp.test' },
    });
    const stays = await collect(store, 'stays');
    expect(stays).toHaveLength(4);
    expect(stays.find((s) => s['lead_id'] === 'L1' && s['stage'] === 'qualify')).toMatchObject({
      exit_kind: 'goal',
      duration_ms: 4 * 60_000,
      imported: false,
    });
    expect(await collect(store, 'tasks')).toHaveLength(3);
    const activities = await collect(store, 'activities');
    expect(activities.map((a) => [a['lead_id'], a['kind'], a['stage'], a['note']])).toEqual([
      ['L1', 'meeting', 'qualify', 'Jane: call me back'],
      ['L1', 'call', 'qualify', null],
    ]);

    // Pages of one row walk every key once, the composite key of activities included.
    for (const kind of ['leads', 'stays', 'tasks', 'activities'] as const)
      expect(await collect(store, kind, {}, 1)).toEqual(await collect(store, kind));

    expect(await collect(store, 'stays', { pipeline: 'nope' })).toEqual([]);
    expect(await collect(store, 'leads', { status: 'open' })).toHaveLength(3);
    const late = await collect(store, 'tasks', { updatedSince: T0 + 5 * 60_000 });
    expect(late.map((t) => t['lead_id'])).toEqual(['L2', 'L3']);
  });

  it("exports a contact's data: every lead with the address, whatever its case, and all its history", async () => {
    const { store, keys } = await setup();
    const data = await exportContact(store, '  Jane.Doe@EXAMPLE.com ', 'dpo', T0 + 3_600_000);
    expect(data).toMatchObject({ email: JANE, suppressed: false });
    expect(data.leads.map((l) => l.id)).toEqual(['L1', 'L2']);
    const l1 = data.leads[0]!;
    expect(l1.lists).toEqual(['newsletter']);
    expect(l1.stays).toHaveLength(2);
    expect(l1.activities).toHaveLength(2);
    // From the event that gave L1 her current address on: what came before is exported to the
    // address it had then (as an earlier lead), since that may have been someone else.
    expect(l1.events.map((e) => e['type'])).toEqual([
      'lead.updated',
      'activity.logged',
      'activity.logged',
      'task.completed',
    ]);
    expect(l1.field_history.find((f) => f['field'] === 'email' && f['seq'] === 2)).toMatchObject({
      old_value: '(before this address)',
      new_value: 'Jane.Doe@Example.com',
    });
    expect(l1.owner_history).toHaveLength(1);
    // Her address correction moved the list membership: the old address unsubscribed, the new subscribed.
    // The welcome and first subscribe went to the old address before it: not in this export.
    expect(l1.outbox.map((o) => [o['kind'], (o['payload'] as { email?: string }).email ?? null]).sort()).toEqual([
      ['enrich', 'Jane.Doe@Example.com'],
      ['list.subscribe', 'Jane.Doe@Example.com'],
      ['list.unsubscribe', '(before this address)'],
    ]);
    const [audit] = await listAudit(store.db, { action: 'contact.export' });
    expect(audit).toMatchObject({ actor: 'dpo', target: keys.hash(JANE), details: { leads: ['L1', 'L2'] } });
    expect(JSON.stringify(audit)).not.toContain('jane');
  });

  it('erases a contact: pseudonyms everywhere, messages cancelled, list erasures queued, address suppressed', async () => {
    const { store, engine, keys } = await setup();
    const PSEUDONYM = keys.pseudonym(JANE);
    const before = await figures(store);
    const bobBefore = await dump(store, ['L3']);
    // The search below means something: before the erase, every trace is there.
    const janeBefore = await dump(store, ['L1', 'L2']);
    for (const trace of JANE_TRACES) expect(janeBefore, trace).toContain(trace);
    const pending = await store.db
      .selectFrom('outbox')
      .select('id')
      .where('lead_id', 'in', ['L1', 'L2'])
      .where('status', '=', 'pending')
      .execute();
    expect(pending.length).toBeGreaterThanOrEqual(4);

    const now = T0 + 86_400_000;
    const result = await eraseContact(store, 'JANE.DOE@example.com', 'dpo', now);
    expect(result).toMatchObject({
      emailHash: keys.hash(JANE),
      pseudonym: PSEUDONYM,
      leads: ['L1', 'L2'],
      cancelled: pending.length,
      alreadyErased: false,
    });
    expect(result.listErasures.map((e) => e.id).sort()).toEqual([
      `erase:L1:newsletter:${md5(JANE)}`,
      `erase:L1:newsletter:${md5('jane@old.test')}`,
      `erase:L2:newsletter:${md5(JANE)}`,
    ]);

    // No trace of Jane in any of her leads' rows; Bob's untouched; the figures unchanged.
    const after = await dump(store, ['L1', 'L2']);
    for (const trace of JANE_TRACES) expect(after, trace).not.toContain(trace);
    expect(await dump(store, ['L3'])).toBe(bobBefore);
    expect(await figures(store)).toEqual(before);

    const l1 = await store.db.selectFrom('leads').selectAll().where('id', '=', 'L1').executeTakeFirstOrThrow();
    expect(l1).toMatchObject({ name: PSEUDONYM, email: null, phone: null });
    expect(JSON.parse(l1.fields)).toEqual({
      name: PSEUDONYM,
      first_name: PSEUDONYM,
      last_name: PSEUDONYM,
      email: null,
      work_email: null,
      phone: null,
      value: 1200.5,
      territory: 'de',
    });
    expect((JSON.parse(l1.state) as { lists: string[] }).lists).toEqual([]);

    const created = await store.db
      .selectFrom('events')
      .select('payload')
      .where('lead_id', '=', 'L1')
      .where('seq', '=', 1)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(created.payload)).toMatchObject({
      type: 'lead.created',
      fields: { name: PSEUDONYM, email: PSEUDONYM, phone: PSEUDONYM, territory: 'de' },
    });
    const history = await store.db
      .selectFrom('field_history')
      .select(['old_value', 'new_value'])
      .where('lead_id', '=', 'L1')
      .where('field', '=', 'email')
      .where('seq', '=', 2)
      .executeTakeFirstOrThrow();
    expect(history).toEqual({ old_value: JSON.stringify(PSEUDONYM), new_value: JSON.stringify(PSEUDONYM) });
    const notes = await store.db.selectFrom('activities').select('note').where('lead_id', '=', 'L1').execute();
    expect(notes.every((n) => n.note === null)).toBe(true);

    const outbox = await store.db
      .selectFrom('outbox')
      .select(['id', 'kind', 'status', 'payload'])
      .where('lead_id', 'in', ['L1', 'L2'])
      .orderBy('id')
      .execute();
    // Delivered stays delivered (its payload scrubbed); the rest is cancelled; the erasures wait.
    expect(outbox.find((o) => o.id === 'L1:1:0:list.subscribe')?.status).toBe('sent');
    expect(outbox.filter((o) => o.kind !== 'list.erase' && o.status === 'pending')).toEqual([]);
    expect(
      outbox
        .filter((o) => o.status === 'cancelled')
        .map((o) => o.id)
        .sort(),
    ).toEqual(pending.map((p) => p.id).sort());
    const erase = outbox.find((o) => o.id === `erase:L2:newsletter:${md5(JANE)}`);
    expect(erase).toMatchObject({ kind: 'list.erase', status: 'pending' });
    expect(JSON.parse(erase!.payload)).toEqual({ lead: 'L2', list: 'newsletter', email_hash: md5(JANE) });

    expect(await isSuppressed(store.db, ' Jane.Doe@Example.COM')).toBe(true);
    expect(await isSuppressed(store.db, 'bob@other.test')).toBe(false);
    const suppression = await store.db.selectFrom('suppressions').selectAll().executeTakeFirstOrThrow();
    expect(suppression).toEqual({ email_hash: keys.hash(JANE), at: now, reason: 'erased' });

    const audits = await listAudit(store.db, { action: 'contact.erase' });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      actor: 'dpo',
      target: keys.hash(JANE),
      details: { email_hash: keys.hash(JANE), leads: ['L1', 'L2'], cancelled: pending.length },
    });
    expect(JSON.stringify(audits)).not.toContain('jane');

    // The engine goes on with the erased lead (its version moved on) and finds no address to write to.
    const next = await engine.handle({ type: 'lead.updated', lead: 'L1', fields: { territory: 'at' } }, now + 1);
    expect(next.ok && next.lead.fields['email']).toBe(null);

    // A data export now tells what is left: nothing personal, and the suppression.
    const data = await exportContact(store, JANE, 'dpo', now + 2);
    expect(data).toMatchObject({ suppressed: true, leads: [] });
  });

  it('after an erase, automation never writes to the address again: a new lead with it queues no mail', async () => {
    const { store, engine } = await setup();
    await eraseContact(store, JANE, 'dpo', T0 + 3_600_000);
    const out = await engine.handle(
      { type: 'lead.created', lead: 'L4', fields: { name: 'Jane again', email: 'JANE.DOE@example.com' } },
      T0 + 7_200_000,
    );
    expect(out.ok).toBe(true);
    const queued = await store.db.selectFrom('outbox').select('kind').where('lead_id', '=', 'L4').execute();
    expect(queued.map((q) => q.kind)).toEqual([]);
    const notes = out.log.map((l) => l.message).join('\n');
    expect(notes).toContain('subscribe to newsletter skipped: the contact was erased');
    expect(notes).toContain('email welcome not sent: the contact was erased');
    // Someone else on the same process still gets their mail.
    await engine.handle({ type: 'lead.created', lead: 'L5', fields: { email: 'carol@other.test' } }, T0 + 7_260_000);
    const carol = await store.db.selectFrom('outbox').select('kind').where('lead_id', '=', 'L5').execute();
    expect(carol.map((q) => q.kind).sort()).toEqual(['email', 'list.subscribe']);
  });

  it('erasing twice is harmless, and an unknown address is refused', async () => {
    const { store } = await setup();
    await eraseContact(store, JANE, 'dpo', T0 + 86_400_000);
    const outbox = await store.db.selectFrom('outbox').selectAll().orderBy('id').execute();
    const again = await eraseContact(store, JANE, 'dpo', T0 + 86_400_001);
    expect(again).toMatchObject({ leads: [], cancelled: 0, listErasures: [], alreadyErased: true });
    expect(await store.db.selectFrom('outbox').selectAll().orderBy('id').execute()).toEqual(outbox);
    expect(await listAudit(store.db, { action: 'contact.erase' })).toHaveLength(2);

    await expect(eraseContact(store, 'nobody@nowhere.test', 'dpo', T0)).rejects.toThrow(ContactError);
    await expect(eraseContact(store, 'nobody@nowhere.test', 'dpo', T0)).rejects.toThrow(/no lead has the email/);
    await expect(eraseContact(store, 'not an address', 'dpo', T0)).rejects.toThrow(/not an email address/);
    expect(await store.db.selectFrom('suppressions').selectAll().execute()).toHaveLength(1);
  });

  it('keeps the company unless it is the person, even when the lead name occurs in it, and forgets stored API answers that quote their address', async () => {
    const { store, engine, keys } = await setup();
    const PSEUDONYM = keys.pseudonym(JANE);
    // An imported deal is named by its title, which its company name often contains.
    const created = await engine.handle(
      { type: 'lead.created', lead: 'L4', fields: { name: 'Delta', company: 'Delta Ltd', email: JANE } },
      T0 + 3_600_000,
    );
    expect(created.ok).toBe(true);
    await engine.handle({ type: 'lead.updated', lead: 'L4', fields: { company: 'Delta Holdings' } }, T0 + 3_660_000);
    // A company that is the person: their address, or a name field of theirs whole (a sole trader).
    for (const [lead, company] of [
      ['L5', JANE],
      ['L6', 'Jane Doe'],
    ] as const)
      expect(
        (
          await engine.handle(
            { type: 'lead.created', lead, fields: { full_name: 'Jane Doe', company, email: JANE } },
            T0,
          )
        ).ok,
      ).toBe(true);
    const answer = (scope: string, key: string, body: string) => ({
      scope,
      key,
      request_hash: 'h',
      state: 'done',
      status_code: 201,
      headers: null,
      body,
      created_at: T0,
    });
    await store.db
      .insertInto('idempotency_keys')
      .values([
        answer('admin', 'create-jane', JSON.stringify({ id: 'L2', contact: { email: JANE, name: 'Jane D.' } })),
        answer('admin', 'create-bob', JSON.stringify({ id: 'L3', contact: { email: 'bob@other.test' } })),
        // Another customer's deal with the same title as Jane's: not hers.
        answer(
          'admin',
          'create-carl',
          JSON.stringify({ id: 'L9', fields: { name: 'Delta', email: 'carl@gamma.test' } }),
        ),
      ])
      .execute();

    await eraseContact(store, JANE, 'dpo', T0 + 86_400_000);
    const l4 = await store.db
      .selectFrom('leads')
      .select(['name', 'company', 'fields'])
      .where('id', '=', 'L4')
      .executeTakeFirstOrThrow();
    expect(l4.name).toBe(PSEUDONYM);
    expect(l4.company).toBe('Delta Holdings');
    expect(JSON.parse(l4.fields)).toMatchObject({ name: PSEUDONYM, company: 'Delta Holdings', email: null });
    const history = await store.db
      .selectFrom('field_history')
      .select(['old_value', 'new_value'])
      .where('lead_id', '=', 'L4')
      .where('field', '=', 'company')
      .orderBy('seq')
      .execute();
    expect(history.map((h) => [h.old_value, h.new_value])).toEqual([
      [null, '"Delta Ltd"'],
      ['"Delta Ltd"', '"Delta Holdings"'],
    ]);
    const kept = await store.db.selectFrom('idempotency_keys').select('key').orderBy('key').execute();
    expect(kept.map((k) => k.key)).toEqual(['create-bob', 'create-carl']);
    const personal = await store.db
      .selectFrom('leads')
      .select(['id', 'company', 'fields'])
      .where('id', 'in', ['L5', 'L6'])
      .orderBy('id')
      .execute();
    expect(personal.map((l) => [l.id, l.company, JSON.parse(l.fields).company])).toEqual([
      ['L5', PSEUDONYM, PSEUDONYM],
      ['L6', PSEUDONYM, PSEUDONYM],
    ]);
  });
});
