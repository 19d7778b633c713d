import { createHash } from 'node:crypto';
import { CompiledQuery, sql, type Compilable } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/domain/events.js';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { listAudit } from '../../src/store/audit.js';
import { eraseContact } from '../../src/store/contact-erase.js';
import { exportContact } from '../../src/store/contact-export.js';
import { contactKeys } from '../../src/store/contact-keys.js';
import { addressHistoryQuery, ContactError, deletedLeadMessagesQuery, quotesAddress } from '../../src/store/contact.js';
import { withTransaction, type Store } from '../../src/store/db.js';
import { deleteLead } from '../../src/store/lead-delete.js';
import { isSuppressed } from '../../src/store/suppressions.js';
import { T0 } from '../support/process-fixtures.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * What a contact's export and erase reach beyond the leads that have the address now: leads whose
 * email was the address earlier (now someone else's), deleted leads' messages to the address; and
 * which company is the person, on a real SQLite file and a real PostgreSQL.
 */

const PROCESS = `name: Reach
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna }
assignment: { default_owner: anna }
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - id: qualify
        name: Qualify
        on_enter:
          - subscribe: { list: newsletter }
          - email: { template: welcome }
      - id: demo
        name: Demo
templates:
  welcome: { subject: Welcome, body: Hello }
`;

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const JANE = 'jane.roe@acme.test';
const SAM = 'sam.successor@movedco.test';

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('contact reach on %s', (dialect) => {
  async function setup(events: EngineEvent[]): Promise<{ store: Store; engine: Engine }> {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, PROCESS, T0, 'test');
    const engine = new Engine(store);
    for (const [i, event] of events.entries()) expect((await engine.handle(event, T0 + i * 60_000)).ok).toBe(true);
    return { store, engine };
  }

  /** Every row of the lead, as lowercased text to search. */
  async function dump(store: Store, id: string): Promise<string> {
    const parts: unknown[] = [await store.db.selectFrom('leads').selectAll().where('id', '=', id).execute()];
    for (const t of ['events', 'field_history', 'run_log', 'activities', 'outbox'] as const)
      parts.push(await store.db.selectFrom(t).selectAll().where('lead_id', '=', id).execute());
    return JSON.stringify(parts).toLowerCase();
  }

  /** Jane's address was L-MOVED's until Sam succeeded her there; L-JANE is hers now. */
  const MOVED: EngineEvent[] = [
    {
      type: 'lead.created',
      lead: 'L-MOVED',
      fields: { name: 'Jane Roe', email: JANE, phone: '+44 20 7946 0001', company: 'Movedco' },
    },
    { type: 'activity.logged', lead: 'L-MOVED', kind: 'call', note: 'Jane asked for a call back' },
    { type: 'lead.updated', lead: 'L-MOVED', fields: { email: SAM, name: 'Sam Successor', phone: null } },
    { type: 'activity.logged', lead: 'L-MOVED', kind: 'call', note: 'Sam wants a demo' },
    { type: 'lead.created', lead: 'L-JANE', fields: { name: 'Jane Roe', email: JANE } },
  ];

  it('exports and erases a lead whose email was the address earlier, leaving its current contact alone', async () => {
    const { store } = await setup(MOVED);
    const data = await exportContact(store, JANE, 'dpo', T0 + 3_600_000);
    expect(data.leads.map((l) => l.id)).toEqual(['L-JANE']);
    expect(data.earlier_leads.map((l) => [l.id, l.address_held])).toEqual([['L-MOVED', 'earlier']]);
    const earlier = data.earlier_leads[0]!;
    // Her rows, not Sam's: the events while the address was the lead's, and her messages.
    expect(earlier.events.map((e) => e['seq'])).toEqual([1, 2]);
    expect(earlier.activities.map((a) => a['note'])).toEqual(['Jane asked for a call back']);
    expect(earlier.outbox.map((o) => o['kind']).sort()).toEqual(['email', 'list.subscribe', 'list.unsubscribe']);
    expect(JSON.stringify(earlier).toLowerCase()).not.toContain('sam');

    const before = await dump(store, 'L-MOVED');
    for (const trace of ['jane', '7946 0001', 'sam']) expect(before, trace).toContain(trace);
    const pending = await store.db
      .selectFrom('outbox')
      .select('id')
      .where('lead_id', '=', 'L-MOVED')
      .where('status', '=', 'pending')
      .execute();
    // Hers: the welcome and subscribe to her address, and the unsubscribe of it when Sam took the
    // lead over (lists follow the address); Sam's subscribe is his.
    expect(pending.map((p) => p.id).sort()).toEqual([
      'L-MOVED:1:0:list.subscribe',
      'L-MOVED:1:1:email',
      'L-MOVED:3:0:list.unsubscribe',
      'L-MOVED:3:1:list.subscribe',
    ]);
    const hers = pending.map((p) => p.id).filter((id) => id !== 'L-MOVED:3:1:list.subscribe');

    const result = await eraseContact(store, JANE, 'dpo', T0 + 86_400_000);
    expect(result).toMatchObject({ leads: ['L-JANE'], earlierLeads: ['L-MOVED'], alreadyErased: false });
    expect(result.listErasures.map((e) => e.id).sort()).toEqual([
      `erase:L-JANE:newsletter:${md5(JANE)}`,
      `erase:L-MOVED:newsletter:${md5(JANE)}`,
    ]);
    const after = await dump(store, 'L-MOVED');
    for (const trace of ['jane', 'roe', '7946 0001']) expect(after, trace).not.toContain(trace);
    // Sam, the lead's contact now, keeps his name, address and note; the lead keeps its company.
    const moved = await store.db.selectFrom('leads').selectAll().where('id', '=', 'L-MOVED').executeTakeFirstOrThrow();
    expect(moved).toMatchObject({ name: 'Sam Successor', email: SAM, company: 'Movedco' });
    expect(JSON.parse(moved.fields)).toMatchObject({ name: 'Sam Successor', email: SAM, company: 'Movedco' });
    const notes = await store.db
      .selectFrom('activities')
      .select('note')
      .where('lead_id', '=', 'L-MOVED')
      .orderBy('seq')
      .execute();
    expect(notes.map((n) => n.note)).toEqual([null, 'Sam wants a demo']);
    const history = await store.db
      .selectFrom('field_history')
      .select(['seq', 'field', 'old_value', 'new_value'])
      .where('lead_id', '=', 'L-MOVED')
      .where('field', '=', 'email')
      .orderBy('seq')
      .execute();
    expect(history).toEqual([
      { seq: 1, field: 'email', old_value: null, new_value: JSON.stringify(result.pseudonym) },
      { seq: 3, field: 'email', old_value: JSON.stringify(result.pseudonym), new_value: JSON.stringify(SAM) },
    ]);
    // Her messages from the lead were not delivered: cancelled, as on her own leads.
    const settled = await store.db
      .selectFrom('outbox')
      .select(['id', 'status', 'last_error'])
      .where('id', 'in', hers)
      .execute();
    expect(settled).toHaveLength(3);
    expect(settled.every((o) => o.status === 'cancelled' && o.last_error === 'cancelled: contact erased')).toBe(true);
    const his = await store.db
      .selectFrom('outbox')
      .select(['status'])
      .where('id', '=', 'L-MOVED:3:1:list.subscribe')
      .executeTakeFirstOrThrow();
    expect(his.status).toBe('pending');
    const audit = await listAudit(store.db, { action: 'contact.erase' });
    expect(audit[0]?.details).toMatchObject({ leads: ['L-JANE'], earlier_leads: ['L-MOVED'] });

    // Erasing again finds nothing left: the history no longer holds the address.
    const again = await eraseContact(store, JANE, 'dpo', T0 + 86_400_001);
    expect(again).toMatchObject({ leads: [], earlierLeads: [], alreadyErased: true });
  });

  it('finds a person whose only trace is a lead that had their address: not "no lead has it"', async () => {
    const { store } = await setup([
      { type: 'lead.created', lead: 'L-R', fields: { name: 'Rita R', email: 'r1@r.test' } },
      { type: 'lead.updated', lead: 'L-R', fields: { email: 'r2@r.test' } },
    ]);
    // The API's stored answer to the lead's creation quotes the address it had then.
    const answer = (key: string, email: string) => ({
      scope: 'admin',
      key,
      request_hash: 'h',
      state: 'done',
      status_code: 201,
      headers: null,
      body: JSON.stringify({ id: 'L-R', contact: { email } }),
      created_at: T0,
    });
    await store.db
      .insertInto('idempotency_keys')
      .values([answer('create', 'r1@r.test'), answer('update', 'r2@r.test')])
      .execute();
    const data = await exportContact(store, 'R1@r.test', 'dpo', T0 + 3_600_000);
    expect(data).toMatchObject({ leads: [], suppressed: false });
    expect(data.earlier_leads.map((l) => l.id)).toEqual(['L-R']);
    const result = await eraseContact(store, 'r1@r.test', 'dpo', T0 + 86_400_000);
    expect(result).toMatchObject({ leads: [], earlierLeads: ['L-R'], alreadyErased: false });
    expect(result.listErasures.map((e) => e.id)).toEqual([`erase:L-R:newsletter:${md5('r1@r.test')}`]);
    expect(await isSuppressed(store.db, 'r1@r.test')).toBe(true);
    expect(await dump(store, 'L-R')).not.toContain('r1@r.test');
    const kept = await store.db.selectFrom('idempotency_keys').select('key').execute();
    expect(kept.map((k) => k.key)).toEqual(['update']);
    // The same person with their new address: found as before, the earlier one not counted.
    expect((await exportContact(store, 'r2@r.test', 'dpo', T0 + 86_400_001)).earlier_leads).toEqual([]);
  });

  /** The database's own plan (PostgreSQL would scan tables this small whatever its indexes, so not asked to). */
  async function planOf(store: Store, query: (tx: Parameters<typeof addressHistoryQuery>[0]) => Compilable) {
    return withTransaction(store, async (tx) => {
      const { sql: text, parameters } = query(tx).compile();
      if (dialect === 'postgres') await sql`set local enable_seqscan = off`.execute(tx);
      const explain = dialect === 'sqlite' ? 'explain query plan ' : 'explain ';
      const rows = await tx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(explain + text, [...parameters]));
      return rows.rows.map((r) => String(r['detail'] ?? r['QUERY PLAN'])).join('\n');
    });
  }

  it('looks the address up through indexes, never reading every field change or message', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    const history = await planOf(store, (tx) => addressHistoryQuery(tx, JANE));
    expect(history).toMatch(/field_history_email_old/);
    expect(history).toMatch(/field_history_email_new/);
    expect(history).not.toMatch(/SCAN field_history(?! USING)|Seq Scan on field_history/);
    const deleted = await planOf(store, (tx) => deletedLeadMessagesQuery(tx, JANE));
    expect(deleted).toMatch(/outbox_lead/);
    expect(deleted).not.toMatch(/SCAN outbox(?! USING)|Seq Scan on outbox/);
  });

  it("exports and erases a deleted lead's messages to the address, and queues list erasures for them", async () => {
    const { store } = await setup([
      { type: 'lead.created', lead: 'L-ANN', fields: { name: 'Ann Zed', email: 'ann@zed.test', phone: '+4411112222' } },
      { type: 'lead.created', lead: 'L-JOANN', fields: { name: 'Jo Ann', email: 'joann@zed.test' } },
    ]);
    await store.db
      .updateTable('outbox')
      .set({ status: 'sent', attempts: 1 })
      .where('id', '=', 'L-ANN:1:0:list.subscribe')
      .execute();
    await deleteLead(store, 'L-ANN', 'admin', T0 + 60_000);
    const data = await exportContact(store, 'ann@zed.test', 'dpo', T0 + 120_000);
    expect(data.leads).toEqual([]);
    // joann@zed.test is someone else, though her address ends in Ann's.
    expect(data.deleted_lead_messages.map((o) => o['id'])).toEqual(['L-ANN:1:0:list.subscribe', 'L-ANN:1:1:email']);

    const result = await eraseContact(store, 'ann@zed.test', 'dpo', T0 + 180_000);
    expect(result).toMatchObject({ leads: [], deletedLeadMessages: 2, alreadyErased: false });
    expect(result.listErasures.map((e) => e.id)).toEqual([`erase:L-ANN:newsletter:${md5('ann@zed.test')}`]);
    expect(await isSuppressed(store.db, 'ann@zed.test')).toBe(true);
    const left = await store.db.selectFrom('outbox').select(['id', 'payload']).where('lead_id', '=', 'L-ANN').execute();
    expect(JSON.stringify(left).toLowerCase()).not.toMatch(/ann@zed|ann zed|11112222/);
    expect(await dump(store, 'L-JOANN')).toContain('joann@zed.test');
    // Nothing is left to find, and nobody else is affected.
    expect(await eraseContact(store, 'ann@zed.test', 'dpo', T0 + 240_000)).toMatchObject({ alreadyErased: true });
    await expect(exportContact(store, 'zed@zed.test', 'dpo', T0)).rejects.toThrow(ContactError);
  });

  it('keeps a company named like the deal, and takes one that is a name field of the person', async () => {
    const { store } = await setup([
      // The demo's deals are named after their company: the lead name is not the person's.
      {
        type: 'lead.created',
        lead: 'L-DEAL',
        fields: { name: 'Tidewater Architects', company: 'Tidewater Architects', email: JANE },
      },
      { type: 'lead.created', lead: 'L-SOLE', fields: { full_name: 'Jane Roe', company: 'Jane Roe', email: JANE } },
      { type: 'lead.created', lead: 'L-ADDR', fields: { company: JANE, email: JANE } },
    ]);
    await eraseContact(store, JANE, 'dpo', T0 + 86_400_000);
    const { pseudonym } = { pseudonym: (await contactKeys(store.db)).pseudonym(JANE) };
    const rows = await store.db.selectFrom('leads').select(['id', 'name', 'company', 'fields']).orderBy('id').execute();
    expect(rows.map((l) => [l.id, l.name, l.company, (JSON.parse(l.fields) as { company: string }).company])).toEqual([
      ['L-ADDR', null, pseudonym, pseudonym],
      ['L-DEAL', pseudonym, 'Tidewater Architects', 'Tidewater Architects'],
      ['L-SOLE', null, pseudonym, pseudonym],
    ]);
  });

  it('cancels messages whose worker lease ran out, and leaves a live lease to its worker', async () => {
    const { store } = await setup([
      { type: 'lead.created', lead: 'L-U', fields: { name: 'Uma U', email: 'u@u.test' } },
    ]);
    const now = T0 + 86_400_000;
    await store.db
      .updateTable('outbox')
      .set({ status: 'sending', next_attempt_at: now - 1_000 })
      .where('id', '=', 'L-U:1:1:email')
      .execute();
    await store.db
      .updateTable('outbox')
      .set({ status: 'sending', next_attempt_at: now + 60_000 })
      .where('id', '=', 'L-U:1:0:list.subscribe')
      .execute();
    const result = await eraseContact(store, 'u@u.test', 'dpo', now);
    expect(result.cancelled).toBe(1);
    const rows = await store.db
      .selectFrom('outbox')
      .select(['id', 'status', 'last_error'])
      .where('lead_id', '=', 'L-U')
      .where('kind', '!=', 'list.erase')
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { id: 'L-U:1:0:list.subscribe', status: 'sending', last_error: null },
      { id: 'L-U:1:1:email', status: 'cancelled', last_error: 'cancelled: contact erased' },
    ]);
  });

  it("exports and erases the address where another person's lead quotes it: a field, the close reason, a note", async () => {
    const { store } = await setup([
      { type: 'lead.created', lead: 'L-JANE', fields: { name: 'Jane Roe', email: JANE } },
      {
        type: 'lead.created',
        lead: 'L-BOB',
        fields: {
          name: 'Bob Kay',
          email: 'bob@kay.test',
          cc_email: JANE.toUpperCase(),
          partner_email: `jo${JANE}`,
          segment: 'smb',
        },
      },
      { type: 'activity.logged', lead: 'L-BOB', kind: 'email', note: `Bob forwarded it to ${JANE}` },
      { type: 'activity.logged', lead: 'L-BOB', kind: 'call', note: 'Bob wants a demo' },
      // Another address that merely ends like hers is not hers.
      { type: 'lead.created', lead: 'L-JOANN', fields: { name: 'Jo Ann', email: `jo${JANE}` } },
      { type: 'activity.logged', lead: 'L-JOANN', kind: 'call', note: `reach me at jo${JANE}` },
    ]);
    const data = await exportContact(store, JANE, 'dpo', T0 + 3_600_000);
    expect(data.leads.map((l) => l.id)).toEqual(['L-JANE']);
    expect(data.mentioning_leads.map((l) => [l.id, l.address_held])).toEqual([['L-BOB', 'mentioned']]);
    const bob = data.mentioning_leads[0]!;
    expect(bob.fields).toEqual({ cc_email: JANE.toUpperCase() });
    expect(bob.activities.map((a) => a['note'])).toEqual([`Bob forwarded it to ${JANE}`]);
    // Bob's own data is not hers to receive.
    expect(JSON.stringify(bob).toLowerCase()).not.toMatch(/bob@kay|wants a demo|smb/);

    const result = await eraseContact(store, JANE, 'dpo', T0 + 86_400_000);
    expect(result).toMatchObject({ leads: ['L-JANE'], mentioningLeads: ['L-BOB'] });
    expect(quotesAddress(await dump(store, 'L-BOB'), JANE)).toBe(false);
    const lead = await store.db.selectFrom('leads').selectAll().where('id', '=', 'L-BOB').executeTakeFirstOrThrow();
    expect(lead).toMatchObject({ name: 'Bob Kay', email: 'bob@kay.test' });
    // A longer address that ends like hers is someone else's: left whole.
    expect(JSON.parse(lead.fields)).toMatchObject({
      cc_email: result.pseudonym,
      partner_email: `jo${JANE}`,
      segment: 'smb',
    });
    const notes = await store.db
      .selectFrom('activities')
      .select('note')
      .where('lead_id', '=', 'L-BOB')
      .orderBy('seq')
      .execute();
    expect(notes.map((n) => n.note)).toEqual([`Bob forwarded it to ${result.pseudonym}`, 'Bob wants a demo']);
    expect(await dump(store, 'L-JOANN')).toContain(`jo${JANE}`);
    const audit = await listAudit(store.db, { action: 'contact.erase' });
    expect(audit[0]?.details).toMatchObject({ mentioning_leads: ['L-BOB'] });
  });

  it("keeps a pending list erasure of the lead's earlier contact when its current contact is erased too", async () => {
    const { store } = await setup([
      { type: 'lead.created', lead: 'L-TWO', fields: { name: 'Acme', email: 'alice@acme.test' } },
      // Lists follow the address: Carol is subscribed where Alice was.
      { type: 'lead.updated', lead: 'L-TWO', fields: { email: 'carol@acme.test' } },
    ]);
    await eraseContact(store, 'alice@acme.test', 'dpo', T0 + 3_600_000);
    // Carol asks too before the worker delivered Alice's erasure (Mailchimp down, say).
    await eraseContact(store, 'carol@acme.test', 'dpo', T0 + 7_200_000);
    const rows = await store.db
      .selectFrom('outbox')
      .select(['id', 'payload'])
      .where('kind', '=', 'list.erase')
      .orderBy('id')
      .execute();
    const hashes = rows.map((r) => (JSON.parse(r.payload) as { email_hash: string }).email_hash).sort();
    // One erasure each, each still naming its person's Mailchimp hash; none for a pseudonym.
    expect(hashes).toEqual([md5('alice@acme.test'), md5('carol@acme.test')].sort());
  });

  it('quotes an address only whole', () => {
    expect(quotesAddress('to Ann@Zed.test.', 'ann@zed.test')).toBe(true);
    expect(quotesAddress('{"to":"ann@zed.test"}', 'ann@zed.test')).toBe(true);
    expect(quotesAddress('joann@zed.test', 'ann@zed.test')).toBe(false);
    expect(quotesAddress('ann@zed.test.example', 'ann@zed.test')).toBe(false);
  });
});
