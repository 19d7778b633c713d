import { afterEach, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/domain/events.js';
import { Engine, type TimedEvent } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { openStore, withTransaction, type Store } from '../../src/store/db.js';
import { DecisionWriter } from '../../src/store/decision-writer.js';
import { leadRow, LOADED_LEAD_COLUMNS, VersionConflict } from '../../src/store/leads.js';
import { runChangedUpdate } from '../../src/store/sqlite-statements.js';
import type { Database } from '../../src/store/schema.js';
import { basicProcess, T0 } from '../support/process-fixtures.js';
import { freshDatabaseUrl } from '../support/stores.js';

/**
 * On SQLite the engine writes through prepared statements on the raw connection; PostgreSQL keeps
 * Kysely's multi-row statements. Both paths must leave the very same rows, so the same events go
 * through each on SQLite (the Kysely one by hiding the raw connection) and every table is compared.
 */

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const TABLES: (keyof Database)[] = [
  'leads',
  'stage_stays',
  'tasks',
  'events',
  'run_log',
  'activities',
  'owner_history',
  'field_history',
  'outbox',
  'routing_load',
  'routing_counts',
  'routing_cursors',
];

async function dump(store: Store): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) {
    const rows = await store.db.selectFrom(t).selectAll().execute();
    out[t] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

function batches(): TimedEvent[][] {
  const at = (i: number): number => T0 + i * 60_000;
  const ev = (event: EngineEvent, i: number): TimedEvent => ({ event, at: at(i) });
  return [
    [
      ev({ type: 'lead.created', lead: 'L1', fields: { name: 'Acme', value: 99.5 } }, 0),
      ev({ type: 'lead.created', lead: 'L2', fields: { email: 'b@acme.test' } }, 1),
      ev({ type: 'lead.created', lead: 'L1', fields: {} }, 2), // refused: lead_exists
      ev({ type: 'task.completed', lead: 'L2', task: 'call' }, 3),
    ],
    [
      // One lead several times in a batch: its rows are written once, in their last state.
      ev({ type: 'task.completed', lead: 'L1', task: 'call' }, 4),
      ev({ type: 'activity.logged', lead: 'L1', kind: 'meeting' }, 5),
      ev({ type: 'lead.updated', lead: 'L1', fields: { value: 120 } }, 6),
      ev({ type: 'activity.logged', lead: 'L2', kind: 'meeting', note: 'first' }, 7),
    ],
    [
      ev({ type: 'activity.logged', lead: 'L1', kind: 'meeting' }, 8),
      ev({ type: 'activity.logged', lead: 'L1', kind: 'meeting' }, 9),
      ev({ type: 'lead.lost', lead: 'L2', reason: 'no budget' }, 10),
      ev({ type: 'task.completed', lead: 'L9', task: 'call' }, 11), // refused: unknown_lead
    ],
    [
      // Owner, stage, status and address change: the columns the indexes of `leads` cover.
      ev({ type: 'lead.updated', lead: 'L1', fields: { email: 'New@Acme.test' } }, 12),
      ev({ type: 'lead.reopened', lead: 'L2' }, 13),
      ev({ type: 'lead.created', lead: 'L3', fields: { email: 'c@acme.test' } }, 14),
    ],
    [
      ev({ type: 'lead.reassigned', lead: 'L1', owner: 'ben' }, 15),
      ev({ type: 'lead.moved', lead: 'L3', stage: 'close', override: false }, 16),
      ev({ type: 'lead.reassigned', lead: 'L2', owner: 'anna' }, 17), // L2 is ben's: round robin
    ],
    [ev({ type: 'lead.won', lead: 'L3' }, 18), ev({ type: 'lead.updated', lead: 'L1', fields: { email: null } }, 19)],
  ];
}

async function run(hideRawConnection: boolean): Promise<{ outcomes: string[]; rows: Record<string, unknown[]> }> {
  const store = await openStore(await freshDatabaseUrl('sqlite'));
  open.push(store);
  await applyProcess(store, basicProcess, T0, 'test');
  const engine = new Engine(hideRawConnection ? { ...store, sqlite: undefined } : store);
  const outcomes: string[] = [];
  for (const batch of batches())
    for (const o of await engine.handleMany(batch)) outcomes.push(o.ok ? `ok ${o.lead.stay.stage}` : o.error.code);
  return { outcomes, rows: await dump(store) };
}

it('prepared statements on SQLite leave the same rows as the Kysely writer', async () => {
  const raw = await run(false);
  const kysely = await run(true);
  expect(raw.outcomes).toContain('lead_exists');
  expect(raw.outcomes).toContain('unknown_lead');
  expect(raw.rows['activities']).toHaveLength(4);
  expect(raw.outcomes.filter((o) => !o.startsWith('ok'))).toEqual(['lead_exists', 'unknown_lead']);
  expect(raw).toEqual(kysely);
  // The rows say what the events did: new owner, stage, status and a cleared address.
  const leads = raw.rows['leads']?.map((r) => JSON.parse(r as string) as Record<string, unknown>) ?? [];
  const l = (id: string) => leads.find((r) => r['id'] === id);
  expect(l('L1')).toMatchObject({ owner: 'ben', email: null });
  expect(l('L2')).toMatchObject({ owner: 'anna', status: 'open', closed_at: null });
  expect(l('L3')).toMatchObject({ stage: 'close', status: 'won', email: 'c@acme.test' });
  expect(l('L3')?.['closed_at']).toEqual(expect.any(Number));
});

/** A fresh SQLite store with the basic process and one lead, L1, just created. */
async function storeWithLead() {
  const store = await openStore(await freshDatabaseUrl('sqlite'));
  open.push(store);
  await applyProcess(store, basicProcess, T0, 'test');
  const engine = new Engine(store);
  const created = await engine.handle({ type: 'lead.created', lead: 'L1', fields: {} }, T0);
  if (!created.ok) throw new Error('lead.created refused');
  return { store, engine, created };
}

it.each([
  ['prepared statements', false],
  ['Kysely', true],
])('%s: a lead whose version moved on since the batch loaded it is a lost race', async (_path, hide) => {
  const { store, engine, created } = await storeWithLead();
  await engine.handle({ type: 'lead.updated', lead: 'L1', fields: { a: 1 } }, T0 + 1); // version 2 now
  const sqlite = hide ? undefined : store.sqlite;
  const write = (loadedVersion: number | null): Promise<void> =>
    withTransaction(store, async (tx) => {
      const writer = new DecisionWriter();
      const event: EngineEvent = { type: 'lead.updated', lead: 'L1', fields: { b: 2 } };
      const lead = { ...created.lead, seq: 3 };
      writer.add({
        loadedVersion,
        loadedRow: loadedVersion === null ? null : { pipeline: lead.pipeline, furthest_index: 0, other_pipelines: 0 },
        lead,
        changes: [],
        effects: [],
        log: [],
        event,
        actor: { kind: 'api' },
        now: T0 + 2,
      });
      await writer.flush(tx, sqlite);
    });
  await expect(write(1)).rejects.toBeInstanceOf(VersionConflict); // loaded version 1, stored 2
  await expect(write(null)).rejects.toBeInstanceOf(VersionConflict); // created twice
  await write(2);
  const row = await store.db
    .selectFrom('leads')
    .select(['seq', 'version'])
    .where('id', '=', 'L1')
    .executeTakeFirstOrThrow();
  expect(row).toEqual({ seq: 3, version: 3 });
});

it('a stay and tasks the lead has but the database lacks are written when the lead leaves, as the upsert did', async () => {
  const { store, engine, created } = await storeWithLead();
  const stay = created.lead.stay.id;
  const openTasks = created.lead.tasks.map((t) => t.id).sort();
  expect(openTasks.length).toBeGreaterThan(0);
  // A row lost outside the engine (an older version, a hand edit): its tasks go with it.
  store.sqlite?.pragma('foreign_keys = OFF');
  store.sqlite?.prepare('delete from tasks where stay_id = ?').run(stay);
  store.sqlite?.prepare('delete from stage_stays where id = ?').run(stay);
  store.sqlite?.pragma('foreign_keys = ON');
  const moved = await engine.handle({ type: 'lead.moved', lead: 'L1', stage: 'demo', override: false }, T0 + 60_000);
  expect(moved.ok ? 'ok' : moved.error).toBe('ok');
  const stays = await store.db
    .selectFrom('stage_stays')
    .select(['id', 'exited_at'])
    .where('lead_id', '=', 'L1')
    .orderBy('seq')
    .execute();
  expect(stays).toEqual([
    { id: stay, exited_at: T0 + 60_000 },
    { id: expect.stringMatching(/^L1#/), exited_at: null },
  ]);
  // Its tasks were skipped by the move: updated where they exist, inserted where they do not.
  const tasks = await store.db
    .selectFrom('tasks')
    .select(['id', 'status'])
    .where('stay_id', '=', stay)
    .orderBy('id')
    .execute();
  expect(tasks).toEqual(openTasks.map((id) => ({ id, status: 'skipped' })));
});

it('a changed-columns update sets only the columns that differ from the row as loaded, and the version', async () => {
  const store = await openStore(await freshDatabaseUrl('sqlite'));
  open.push(store);
  const db = store.sqlite;
  if (!db) throw new Error('not SQLite');
  db.exec(`create table t (id text primary key, a text, b integer, version integer);
    create table set_columns (name text);
    create trigger t_a after update of a on t begin insert into set_columns values ('a'); end;
    create trigger t_b after update of b on t begin insert into set_columns values ('b'); end;
    create trigger t_version after update of version on t begin insert into set_columns values ('version'); end;
    insert into t values ('x', 'same', 1, 1);`);
  // An UPDATE OF trigger fires when its column is SET, whether or not the value changes.
  const setColumns = () =>
    (db.prepare('delete from set_columns returning name').all() as { name: string }[]).map((r) => r.name).sort();
  const before = { id: 'x', a: 'same', b: 1, version: 1 };
  expect(
    runChangedUpdate(db, 't', 'id', { id: 'x', a: 'same', b: 2, version: 2 }, before, 'version = @version - 1'),
  ).toBe(1);
  expect(setColumns()).toEqual(['b', 'version']);
  expect(db.prepare('select * from t').get()).toEqual({ id: 'x', a: 'same', b: 2, version: 2 });
  // A stale version changes nothing; without a loaded row every column is set.
  expect(
    runChangedUpdate(db, 't', 'id', { id: 'x', a: 'new', b: 2, version: 2 }, before, 'version = @version - 1'),
  ).toBe(0);
  setColumns();
  expect(runChangedUpdate(db, 't', 'id', { id: 'x', a: 'same', b: 2, version: 3 }, null)).toBe(1);
  expect(setColumns()).toEqual(['a', 'b', 'version']);
});

it('a batch loads every indexed lead column the engine writes, so it can leave unchanged ones unset', async () => {
  const { store, created } = await storeWithLead();
  const written = Object.keys(leadRow(created.lead, 1, T0, { furthest_index: 0, other_pipelines: 0 }));
  const indexes = store.sqlite
    ?.prepare("select sql from sqlite_master where type = 'index' and tbl_name = 'leads' and sql is not null")
    .all() as { sql: string }[];
  expect(indexes.length).toBeGreaterThan(5);
  // Every column an index names (expression indexes included), among those the engine writes.
  const indexed = written.filter((c) => indexes.some((i) => new RegExp(`\\b${c}\\b`).test(i.sql)));
  expect(indexed).toEqual(
    expect.arrayContaining(['owner', 'status', 'stage', 'email_key', 'closed_at', 'value_minor']),
  );
  expect(LOADED_LEAD_COLUMNS).toEqual(expect.arrayContaining(indexed));
});
