import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * A lead's `updated_at` never goes back: an event dated before the lead's last write (a clock set
 * back; the engine handles it as of the lead's last change) still moves it on, so a client syncing
 * by `updated_since` from the later time sees the change; and the rows such an event writes are
 * dated as the engine handled it, not before the stay they belong to.
 */

const PROCESS = `name: Sync
organisation: { timezone: UTC }
users: [{ id: anna, name: Anna }]
assignment: { default_owner: anna }
pipelines:
  - { id: nb, name: NB, default: true, stages: [{ id: open, name: Open }], on_won: [{ congratulate: owner }] }
`;

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('updated_at on %s', (dialect) => {
  it('keeps the latest write time when an event is dated earlier', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    await applyProcess(store, PROCESS, t0, 'test');
    const engine = new Engine(store);
    await engine.handle({ type: 'lead.created', lead: 'L', fields: {} }, t0);
    await engine.handle({ type: 'lead.updated', lead: 'L', fields: { company: 'Acme' } }, t0 + 3_600_000);
    await engine.handle({ type: 'lead.updated', lead: 'L', fields: { company: 'Acme GmbH' } }, t0 + 60_000);
    const row = await store.db
      .selectFrom('leads')
      .select(['updated_at', 'company'])
      .where('id', '=', 'L')
      .executeTakeFirstOrThrow();
    expect([Number(row.updated_at), row.company]).toEqual([t0 + 3_600_000, 'Acme GmbH']);
  });

  it('stores an event dated before the stay it lands in as of the stay’s entry, its rows included', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    await applyProcess(store, PROCESS, t0, 'test');
    const engine = new Engine(store);
    await engine.handle({ type: 'lead.created', lead: 'L', fields: {} }, t0);
    await engine.handle({ type: 'activity.logged', lead: 'L', kind: 'call' }, t0 - 600_000);
    const activity = await store.db
      .selectFrom('activities')
      .select('at')
      .where('lead_id', '=', 'L')
      .executeTakeFirstOrThrow();
    const event = await store.db
      .selectFrom('events')
      .select('at')
      .where('lead_id', '=', 'L')
      .where('type', '=', 'activity.logged')
      .executeTakeFirstOrThrow();
    // No row of the lead predates the stay the call was logged in.
    expect([Number(activity.at), Number(event.at)]).toEqual([t0, t0]);
  });

  it('queues the effects of such an event when it was received, not at a change dated ahead of the clock', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    const ahead = Date.parse('2027-02-01T00:00:00Z');
    await applyProcess(store, PROCESS, t0, 'test');
    const engine = new Engine(store);
    // A lead created with the clock set ahead: its stay is dated next February.
    await engine.handle({ type: 'lead.created', lead: 'L', fields: {} }, ahead);
    await engine.handle({ type: 'lead.won', lead: 'L' }, t0);
    const mail = await store.db
      .selectFrom('outbox')
      .select(['next_attempt_at', 'kind'])
      .where('lead_id', '=', 'L')
      .where('kind', '=', 'congratulate')
      .executeTakeFirstOrThrow();
    expect(Number(mail.next_attempt_at)).toBe(t0);
  });

  it('keeps the later time when a process version is applied as of an earlier one', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    await applyProcess(store, PROCESS, t0, 'test');
    await new Engine(store).handle({ type: 'lead.created', lead: 'L', fields: {} }, t0 + 3_600_000);
    await applyProcess(store, PROCESS.replace('name: Sync', 'name: Sync 2'), t0 + 60_000, 'test');
    const row = await store.db
      .selectFrom('leads')
      .select(['updated_at', 'process_version'])
      .where('id', '=', 'L')
      .executeTakeFirstOrThrow();
    expect([Number(row.updated_at), Number(row.process_version)]).toEqual([t0 + 3_600_000, 2]);
  });
});
