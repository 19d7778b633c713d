import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { leadActivities } from '../../src/store/activities.js';
import { eraseContact } from '../../src/store/contact-erase.js';
import type { Store } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Activity ids (migration 0028): the engine names each activity `lead:seq.idx` when it writes it,
 * the migration gives rows written before the same ids, and the id is unique; an edit and a delete
 * in one group-committed batch reach the row the batch itself logged.
 */

const T0 = Date.parse('2026-03-02T09:00:00Z');
const PROCESS = `
name: Activity ids
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna Owner, email: anna@seller.example }
pipelines:
  - id: sales
    name: Sales
    default: true
    stages:
      - { id: new, name: New, goal: { activity: call, min: 2 } }
      - { id: qualified, name: Qualified }
assignment:
  default_owner: anna
`;

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(dialect: (typeof dialects)[number]): Promise<{ store: Store; engine: Engine }> {
  const store = await freshStore(dialect);
  open.push(store);
  await applyProcess(store, PROCESS, T0 - 1000, 'test');
  const engine = new Engine(store);
  for (const lead of ['L1', 'L2'])
    expect((await engine.handle({ type: 'lead.created', lead, fields: {} }, T0)).ok).toBe(true);
  return { store, engine };
}

const ids = async (store: Store) =>
  (await store.db.selectFrom('activities').select('id').orderBy('lead_id').orderBy('seq').execute()).map((r) => r.id);

describe.each(dialects)('activity ids on %s', (dialect) => {
  it('names each activity by its lead, event and place, and migration 0028 names older rows alike', async () => {
    const { store, engine } = await start(dialect);
    for (const lead of ['L1', 'L2', 'L1'])
      expect((await engine.handle({ type: 'activity.logged', lead, kind: 'note' }, T0 + 1000)).ok).toBe(true);
    const written = await ids(store);
    expect(written).toEqual(['L1:2.0', 'L1:3.0', 'L2:2.0']);

    // As before the migration: no id column.
    await sql`drop index activities_id`.execute(store.db);
    await sql`alter table activities drop column id`.execute(store.db);
    await migrations['0028_activity_ids']?.up(store.db);
    expect(await ids(store)).toEqual(written);
    await expect(
      sql`update activities set id = 'L1:2.0' where id = 'L1:3.0'`.execute(store.db),
      'the id is unique',
    ).rejects.toThrow();
  });

  it("erasing a lead's earlier contact drops a note corrected while the address was theirs", async () => {
    const { store, engine } = await start(dialect);
    const steps = [
      { type: 'lead.updated', lead: 'L1', fields: { email: 'zoe@before.example' } },
      { type: 'activity.logged', lead: 'L1', kind: 'note', note: 'spoke to the office' },
      { type: 'lead.updated', lead: 'L1', fields: { email: 'xena@person.example' } },
      { type: 'activity.updated', lead: 'L1', activity: 'L1:3.0', note: 'she moves to Lisbon in May' },
      { type: 'lead.updated', lead: 'L1', fields: { email: 'walt@after.example' } },
    ] as const;
    for (const [i, e] of steps.entries()) expect((await engine.handle(e, T0 + (i + 1) * 60_000)).ok).toBe(true);
    await eraseContact(store, 'xena@person.example', 'dpo', T0 + 3_600_000);
    const rows = await store.db.selectFrom('activities').select('note').where('id', '=', 'L1:3.0').execute();
    expect(rows).toEqual([{ note: null }]);
  });

  it('edits and deletes an activity logged earlier in the same batch, and keeps the goal count right', async () => {
    const { store, engine } = await start(dialect);
    const at = T0 + 1000;
    const outcomes = await engine.handleMany([
      { event: { type: 'activity.logged', lead: 'L1', kind: 'call', note: 'wrong lead' }, at },
      { event: { type: 'activity.updated', lead: 'L1', activity: 'L1:2.0', note: 'wrong lead, really' }, at },
      { event: { type: 'activity.deleted', lead: 'L1', activity: 'L1:2.0' }, at },
      { event: { type: 'activity.deleted', lead: 'L1', activity: 'L1:2.0' }, at },
      { event: { type: 'activity.logged', lead: 'L1', kind: 'call', note: 'one' }, at },
      { event: { type: 'activity.updated', lead: 'L1', activity: 'L1:5.0', note: 'one, corrected' }, at },
    ]);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual([
      'ok',
      'ok',
      'ok',
      'unknown_activity',
      'ok',
      'ok',
    ]);
    const rows = await leadActivities(store.db, 'L1', 'desc', undefined, 10);
    expect(rows.map((r) => [r.id, r.note])).toEqual([['L1:5.0', 'one, corrected']]);
    // The deleted call no longer counts: a second real call is needed to meet the goal (two calls).
    const stage = async () =>
      (await store.db.selectFrom('leads').select('stage').where('id', '=', 'L1').executeTakeFirst())?.stage;
    expect(await stage()).toBe('new');
    expect((await engine.handle({ type: 'activity.logged', lead: 'L1', kind: 'call' }, at + 1000)).ok).toBe(true);
    expect(await stage()).toBe('qualified');

    // After the stay has ended, deleting one of its calls leaves the goal it met alone.
    const after = await engine.handle({ type: 'activity.deleted', lead: 'L1', activity: 'L1:5.0' }, at + 2000);
    expect(after.ok && after.log.map((l) => l.message)).toEqual([
      'activity L1:5.0 (call) deleted by api: the stay it was logged in has ended, whose goal is not judged again',
    ]);
    expect(await stage()).toBe('qualified');
    // An activity of another lead is not this lead's to delete.
    expect((await engine.handle({ type: 'activity.logged', lead: 'L2', kind: 'note' }, at)).ok).toBe(true);
    const foreign = await engine.handle({ type: 'activity.deleted', lead: 'L1', activity: 'L2:2.0' }, at + 3000);
    expect(foreign.ok ? 'ok' : foreign.error.code).toBe('unknown_activity');
  });
});
