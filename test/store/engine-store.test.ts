import { sql } from 'kysely';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess, ProcessRejected } from '../../src/engine/process-service.js';
import { openStore, type Store } from '../../src/store/db.js';
import { basicProcess, T0 } from '../support/process-fixtures.js';
import { dialects, freshDatabaseUrl } from '../support/stores.js';

const execFileAsync = promisify(execFile);
const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function storeAt(url: string): Promise<Store> {
  const s = await openStore(url);
  open.push(s);
  return s;
}

async function rowCounts(store: Store): Promise<Record<string, number>> {
  const tables = [
    'leads',
    'stage_stays',
    'tasks',
    'events',
    'run_log',
    'outbox',
    'owner_history',
    'field_history',
    'activities',
  ] as const;
  const out: Record<string, number> = {};
  for (const t of tables) {
    const r = await store.db
      .selectFrom(t)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    out[t] = Number(r.n);
  }
  return out;
}

it('opens SQLite durable: WAL, synchronous=FULL, a busy timeout, foreign keys on and a 64 MiB cache', async () => {
  const store = await storeAt(await freshDatabaseUrl('sqlite'));
  const pragma = async (name: string): Promise<unknown> => {
    const r = await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(store.db);
    return Object.values(r.rows[0] ?? {})[0];
  };
  expect(await pragma('journal_mode')).toBe('wal');
  expect(await pragma('synchronous')).toBe(2); // FULL
  expect(await pragma('busy_timeout')).toBe(5000);
  expect(await pragma('foreign_keys')).toBe(1);
  expect(await pragma('cache_size')).toBe(-65536); // KiB
});

it('never loses an update when processes race on one SQLite file', async () => {
  const url = await freshDatabaseUrl('sqlite');
  const engine = new Engine(await storeAt(url));
  await applyProcess(engine.store, basicProcess, T0, 'test');
  await engine.handle({ type: 'lead.created', lead: 'L1', fields: {} }, T0);
  const writer = join(import.meta.dirname, '../support/race-writer.ts');
  const run = (prefix: string): Promise<unknown> =>
    execFileAsync(process.execPath, ['--import', 'tsx', writer, url, prefix, '15']);
  await Promise.all([run('a'), run('b'), run('c')]);
  const row = await engine.store.db
    .selectFrom('leads')
    .select(['fields', 'seq'])
    .where('id', '=', 'L1')
    .executeTakeFirstOrThrow();
  expect(Object.keys(JSON.parse(row.fields) as object)).toHaveLength(45);
  expect(row.seq).toBe(46);
});

describe.each(dialects)('engine and store on %s', (dialect) => {
  async function setup(): Promise<{ store: Store; engine: Engine; url: string }> {
    const url = await freshDatabaseUrl(dialect);
    const store = await storeAt(url);
    await applyProcess(store, basicProcess, T0, 'test');
    return { store, engine: new Engine(store), url };
  }

  it('creates a lead with its stay, task, owner and run log in one go', async () => {
    const { store, engine } = await setup();
    const out = await engine.handle({ type: 'lead.created', lead: 'L1', fields: { name: 'Acme', value: 1200.5 } }, T0);
    expect(out.ok).toBe(true);
    const lead = await store.db.selectFrom('leads').selectAll().where('id', '=', 'L1').executeTakeFirstOrThrow();
    expect(lead).toMatchObject({ stage: 'qualify', owner: 'anna', value_minor: 120050, status: 'open', version: 1 });
    const counts = await rowCounts(store);
    expect(counts).toMatchObject({ leads: 1, stage_stays: 1, tasks: 1, events: 1, owner_history: 1, field_history: 2 });
    expect(counts['run_log']).toBeGreaterThanOrEqual(2);
  });

  it('writes nothing for a refused event', async () => {
    const { store, engine } = await setup();
    const created = await engine.handle({ type: 'lead.created', lead: 'L1', fields: {} }, T0);
    const before = await rowCounts(store);
    const out = await engine.handle({ type: 'lead.moved', lead: 'L1', stage: 'nowhere', override: false }, T0 + 1);
    expect(out.ok ? null : out.error.code).toBe('unknown_stage');
    const here = created.ok ? created.lead.stay.stage : '';
    const same = await engine.handle({ type: 'lead.moved', lead: 'L1', stage: here, override: false }, T0 + 2);
    expect(same.ok ? null : same.error.code).toBe('already_in_stage');
    expect(await rowCounts(store)).toEqual(before);
  });

  it('rolls back the whole event when one of its writes fails', async () => {
    const { store, engine } = await setup();
    await engine.handle({ type: 'lead.created', lead: 'L1', fields: {} }, T0);
    // Occupy the event-log slot the next event will need, so its last writes hit a key violation.
    await store.db
      .insertInto('events')
      .values({ lead_id: 'L1', seq: 2, type: 'squatter', at: T0, actor: '{}', payload: '{}', process_version: 1 })
      .execute();
    const before = await rowCounts(store);
    await expect(engine.handle({ type: 'task.completed', lead: 'L1', task: 'call' }, T0 + 1)).rejects.toThrow();
    expect(await rowCounts(store)).toEqual(before);
    const lead = await store.db
      .selectFrom('leads')
      .select(['stage', 'version'])
      .where('id', '=', 'L1')
      .executeTakeFirstOrThrow();
    expect(lead).toEqual({ stage: 'qualify', version: 1 });
  });

  it('never loses an update when writers race on one lead', async () => {
    const { url, engine } = await setup();
    await engine.handle({ type: 'lead.created', lead: 'L1', fields: {} }, T0);
    await engine.handle({ type: 'task.completed', lead: 'L1', task: 'call' }, T0 + 1);
    // On PostgreSQL, several pools = truly concurrent transactions. One SQLite connection serialises
    // its own callers (other processes are covered below).
    const engines =
      dialect === 'postgres' ? [engine, new Engine(await storeAt(url)), new Engine(await storeAt(url))] : [engine];
    const updates = Array.from({ length: 30 }, (_, i) =>
      engines[i % engines.length]!.handle({ type: 'lead.updated', lead: 'L1', fields: { [`f${i}`]: i } }, T0 + 10 + i),
    );
    const outcomes = await Promise.all(updates);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const row = await engine.store.db
      .selectFrom('leads')
      .select(['fields', 'seq', 'version'])
      .where('id', '=', 'L1')
      .executeTakeFirstOrThrow();
    const fields = JSON.parse(row.fields) as Record<string, number>;
    expect(Object.keys(fields).filter((k) => k.startsWith('f'))).toHaveLength(30);
    expect(row.seq).toBe(32);
    const seqs = await engine.store.db
      .selectFrom('events')
      .select('seq')
      .where('lead_id', '=', 'L1')
      .orderBy('seq')
      .execute();
    expect(seqs.map((s) => s.seq)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
  });

  it('group-commits a batch, leaving refused events out', async () => {
    const { store, engine } = await setup();
    const outcomes = await engine.handleMany([
      { event: { type: 'lead.created', lead: 'L1', fields: {} }, at: T0 },
      { event: { type: 'lead.created', lead: 'L2', fields: { email: 'b@acme.test' } }, at: T0 },
      { event: { type: 'lead.created', lead: 'L1', fields: {} }, at: T0 },
      { event: { type: 'task.completed', lead: 'L2', task: 'call' }, at: T0 + 1 },
    ]);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'ok', 'lead_exists', 'ok']);
    const leads = await store.db.selectFrom('leads').select(['id', 'stage', 'owner']).orderBy('id').execute();
    expect(leads).toEqual([
      { id: 'L1', stage: 'qualify', owner: 'anna' },
      { id: 'L2', stage: 'demo', owner: 'ben' },
    ]);
    const outbox = await store.db.selectFrom('outbox').select(['id', 'kind']).execute();
    expect(outbox).toEqual([{ id: 'L2:2:0:enrich', kind: 'enrich' }]);
  });

  it('applies process versions: renamed stages keep their leads, removed ones with leads are refused', async () => {
    const { store, engine } = await setup();
    await engine.handle({ type: 'lead.created', lead: 'L1', fields: {} }, T0);
    const renamed = basicProcess.replace('name: Qualify', 'name: Qualification');
    const applied = await applyProcess(store, renamed, T0 + 1, 'test');
    expect(applied).toMatchObject({ version: 2, migratedLeads: 1 });
    expect(applied.diff.changes).toEqual(['~ stage nb/qualify: renamed "Qualify" -> "Qualification"']);
    const removed = renamed.replace(/ {6}- id: qualify[\s\S]*?(?= {6}- id: demo)/, '');
    await expect(applyProcess(store, removed, T0 + 2, 'test')).rejects.toThrow(ProcessRejected);
    await expect(applyProcess(store, removed, T0 + 2, 'test')).rejects.toThrow(
      /nb\/qualify is removed but holds 1 open lead/,
    );
    const lead = await store.db
      .selectFrom('leads')
      .select(['process_version'])
      .where('id', '=', 'L1')
      .executeTakeFirstOrThrow();
    expect(lead.process_version).toBe(2);
    expect((await applyProcess(store, renamed, T0 + 3, 'test')).unchanged).toBe(true);
  });
});
