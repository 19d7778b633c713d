import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess, diffAgainstCurrent } from '../../src/engine/process-service.js';
import { sql } from 'kysely';
import { withTransaction, type Store } from '../../src/store/db.js';
import { findLead, leadRunLog, listTasks } from '../../src/store/queries.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * A new process version and the leads already in flight (docs/process.md, "Versions and leads in
 * flight"): tasks a stage gains, tasks it drops, goals that change, reordered stages, and leads
 * reopened after their stage was removed. Each on a real SQLite file and a real PostgreSQL.
 */

const V1 = `name: Versions
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna }
assignment: { default_owner: anna }
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - id: qualify
        name: Qualify
        goal: { task_done: call }
        tasks:
          - { id: call, title: Call, kind: call, due: { days: 1 } }
          - { id: brochure, title: Send brochure, kind: email, due: { days: 2 } }
      - id: demo
        name: Demo
        goal: { signal: trial_started }
      - id: close
        name: Close
`;

/** qualify gains demo-prep (due in 2 business days) and drops brochure; demo's goal becomes a field. */
const V2 = V1.replace(
  '          - { id: brochure, title: Send brochure, kind: email, due: { days: 2 } }',
  '          - { id: demo-prep, title: Prepare the demo, kind: todo, due: { business_days: 2 } }',
).replace('goal: { signal: trial_started }', 'goal: { field: budget, set: true }');

// Friday 2026-03-06 10:00 UTC: two business days later is Tuesday 10:00.
const T0 = Date.parse('2026-03-02T09:00:00Z');
const APPLY = Date.parse('2026-03-06T10:00:00Z');

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('process versions and leads in flight on %s', (dialect) => {
  async function setup(): Promise<{ store: Store; engine: Engine }> {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, V1, T0, 'test');
    const engine = new Engine(store);
    for (const id of ['Q1', 'Q2']) await engine.handle({ type: 'lead.created', lead: id, fields: {} }, T0);
    // D1 meets the new demo goal already (budget set), D2 does not.
    await engine.handle({ type: 'lead.created', lead: 'D1', fields: { budget: 5000 } }, T0);
    await engine.handle({ type: 'lead.created', lead: 'D2', fields: {} }, T0);
    for (const id of ['D1', 'D2']) await engine.handle({ type: 'task.completed', lead: id, task: 'call' }, T0 + 60_000);
    return { store, engine };
  }

  const openTemplates = async (store: Store, lead: string): Promise<string[]> =>
    (await listTasks(store.db, { lead, status: 'open', limit: 50 })).map((t) => t.template).sort();

  it('diff names, per changed stage, the open leads in it and what they get', async () => {
    const { store } = await setup();
    const diff = await diffAgainstCurrent(store, V2);
    expect(diff.inFlight).toEqual([
      'stage nb/qualify gains task "demo-prep": 2 open leads in it keep their tasks (new task not created); apply --backfill-tasks creates it for them, due from now',
      'stage nb/qualify drops task "brochure": on the 2 open leads in it, open ones stay open until done or the lead leaves the stage (the goal no longer asks for it)',
      'stage nb/demo changes its goal or gate: the 2 open leads in it are checked against it on apply; those that meet it advance then (but for a lead a person moved back or reopened into it, which waits for a new fact)',
    ]);
    const preview = await diffAgainstCurrent(store, V2, { backfillTasks: true });
    expect(preview.inFlight[0]).toBe(
      'stage nb/qualify gains task "demo-prep": created for the 2 open leads in it (--backfill-tasks), due from the apply time',
    );
  });

  it('diff says when a task the stage keeps changes its due rule or title: the leads in it keep theirs', async () => {
    const { store } = await setup();
    const later = V1.replace(
      '{ id: call, title: Call, kind: call, due: { days: 1 } }',
      '{ id: call, title: Discovery call, kind: call, due: { days: 3 } }',
    );
    expect((await diffAgainstCurrent(store, later)).inFlight).toEqual([
      'stage nb/qualify changes task "call" (due, title): the 2 open leads in it keep their open task as it was (due time and assignee unchanged); leads entering it get the new one',
    ]);
  });

  it('without --backfill-tasks the leads keep their tasks; a changed goal already met advances the lead on apply', async () => {
    const { store, engine } = await setup();
    const applied = await applyProcess(store, V2, APPLY, 'anna');
    expect(applied).toMatchObject({
      version: 2,
      migratedLeads: 4,
      checkedLeads: 2,
      advancedLeads: 1,
      backfilledTasks: 0,
    });
    expect(await openTemplates(store, 'Q1')).toEqual(['brochure', 'call']);
    expect(await findLead(store.db, 'D1')).toMatchObject({ stage: 'close', processVersion: 2 });
    expect(await findLead(store.db, 'D2')).toMatchObject({ stage: 'demo', processVersion: 2 });

    const why = await leadRunLog(store.db, 'D1');
    const upgrade = why.find((e) => e.type === 'process.upgraded');
    expect(upgrade).toMatchObject({ processVersion: 2, actor: { kind: 'system', id: 'anna' } });
    expect(upgrade?.entries.map((e) => e.message)).toEqual([
      'process v2 applied (was v1); lead stays in demo',
      'goal of demo met: budget set true',
      'entered stage close (goal of demo)',
    ]);
    // A lead in an unchanged stage got no event of its own.
    expect((await leadRunLog(store.db, 'Q1')).map((e) => e.type)).toEqual(['lead.created']);

    // D2 now runs under v2: its new goal is met by the next update, not by the old signal.
    const signal = await engine.handle({ type: 'signal.received', lead: 'D2', name: 'trial_started' }, APPLY + 1);
    expect(signal.ok && signal.lead.stay.stage).toBe('demo');
    const budget = await engine.handle({ type: 'lead.updated', lead: 'D2', fields: { budget: 1 } }, APPLY + 2);
    expect(budget.ok && budget.lead.stay.stage).toBe('close');
  });

  it('--backfill-tasks creates the new task for the leads in the stage, due from the apply time, in one transaction', async () => {
    const { store } = await setup();
    const applied = await applyProcess(store, V2, APPLY, 'anna', { backfillTasks: true });
    expect(applied.backfilledTasks).toBe(2);
    expect(applied.diff.inFlight[0]).toContain('created for the 2 open leads in it');
    const tasks = await listTasks(store.db, { lead: 'Q1', status: 'open', limit: 50 });
    const prep = tasks.find((t) => t.template === 'demo-prep');
    expect(prep).toMatchObject({
      id: 'Q1#1:demo-prep',
      stayId: 'Q1#1',
      assignee: 'anna',
      createdAt: APPLY,
      dueAt: Date.parse('2026-03-10T10:00:00Z'),
    });
    // The dropped task stays open where it was; the goal no longer asks for it.
    expect(await openTemplates(store, 'Q1')).toEqual(['brochure', 'call', 'demo-prep']);
    const why = await leadRunLog(store.db, 'Q1');
    expect(why.map((e) => e.type)).toEqual(['lead.created', 'process.upgraded']);
    expect(why[1]?.entries).toContainEqual(
      expect.objectContaining({
        kind: 'task',
        rule: 'demo-prep',
        message:
          'task demo-prep added to stage qualify by process v2 and created for this lead (--backfill-tasks), due 2026-03-10T10:00:00.000Z',
      }),
    );
    // Leads that entered the stage later get it on entry, as any stage task.
    const engine = new Engine(store);
    await engine.handle({ type: 'lead.created', lead: 'Q3', fields: {} }, APPLY + 1);
    expect(await openTemplates(store, 'Q3')).toEqual(['call', 'demo-prep']);
  });

  it('a reordered pipeline: the lead is decided in its own stage, not the one at its old index', async () => {
    const { store, engine } = await setup();
    // close before demo: D2 (in demo, index 1 in v1) is at index 2 in v2.
    const reordered = V1.replace(
      /( {6}- id: demo\n[\s\S]*?)( {6}- id: close\n {8}name: Close\n)/,
      (_m, demo: string, close: string) => `${close}${demo}`,
    );
    const applied = await applyProcess(store, reordered, APPLY, 'anna');
    expect(applied.diff.changes).toContain('~ pipeline nb: stages reordered');
    const out = await engine.handle({ type: 'signal.received', lead: 'D2', name: 'trial_started' }, APPLY + 1);
    // demo's goal is met, and demo is now the last stage: the lead is won, not moved on to "close".
    expect(out.ok && [out.lead.status, out.lead.stay.stage]).toEqual(['won', 'demo']);
  });

  it('reopening a lead moves it to the current version; a stage that is gone is refused, naming it', async () => {
    const { store, engine } = await setup();
    await engine.handle({ type: 'lead.lost', lead: 'D2', reason: 'no budget' }, T0 + 120_000);
    await engine.handle({ type: 'lead.lost', lead: 'Q2', reason: 'no budget' }, T0 + 120_000);
    // v2 drops demo (no open lead is in it now that D1 is moved on).
    await engine.handle({ type: 'lead.moved', lead: 'D1', stage: 'close', override: false }, T0 + 180_000);
    const noDemo = V2.replace(/ {6}- id: demo\n[\s\S]*?(?= {6}- id: close)/, '');
    expect((await applyProcess(store, noDemo, APPLY, 'anna')).version).toBe(2);

    const refused = await engine.handle({ type: 'lead.reopened', lead: 'D2' }, APPLY + 1);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.error).toEqual({
      code: 'unknown_stage',
      field: 'stage',
      message:
        'lead D2 closed in stage nb/demo, which process version 2 no longer has: reopen it with --stage and one of qualify, close',
    });
    expect(await findLead(store.db, 'D2')).toMatchObject({ status: 'lost', processVersion: 1 });

    const into = await engine.handle({ type: 'lead.reopened', lead: 'D2', stage: 'close' }, APPLY + 2);
    expect(into.ok && [into.lead.status, into.lead.stay.stage, into.lead.processVersion]).toEqual(['open', 'close', 2]);
    // A stage that still exists: reopened there, under the current version, with its current tasks.
    const back = await engine.handle({ type: 'lead.reopened', lead: 'Q2' }, APPLY + 3);
    expect(back.ok && [back.lead.stay.stage, back.lead.processVersion]).toEqual(['qualify', 2]);
    expect(await openTemplates(store, 'Q2')).toEqual(['call', 'demo-prep']);
    const why = await leadRunLog(store.db, 'Q2');
    expect(why.at(-1)?.entries[0]?.message).toBe('reopened under process v2 (closed under v1)');
  });

  it('reopening a lead whose closing stage is gone, at or before the kept stage before it, passes no gate it went through', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    const strict = V1.replace(
      '        goal: { task_done: call }',
      '        strict: true\n        goal: { task_done: call }',
    );
    await applyProcess(store, strict, T0, 'test');
    const engine = new Engine(store);
    const rep = { kind: 'user', id: 'anna' } as const;
    await engine.handle({ type: 'lead.created', lead: 'W1', fields: {} }, T0);
    await engine.handle({ type: 'task.completed', lead: 'W1', task: 'call' }, T0 + 60_000);
    await engine.handle({ type: 'signal.received', lead: 'W1', name: 'trial_started' }, T0 + 120_000);
    const won = await engine.handle({ type: 'lead.won', lead: 'W1', actor: rep }, T0 + 180_000);
    expect(won.ok && [won.lead.status, won.lead.stay.stage]).toEqual(['won', 'close']);
    // v2 drops close, the stage W1 was won in: demo is the kept stage before it.
    const noClose = strict.replace(/ {6}- id: close\n[\s\S]*$/, '');
    expect((await applyProcess(store, noClose, APPLY, 'anna')).version).toBe(2);

    // Into demo, where it had been: no forward move, so strict qualify (passed long ago) is no gate.
    const back = await engine.handle({ type: 'lead.reopened', lead: 'W1', stage: 'demo', actor: rep }, APPLY + 1);
    expect(back.ok ? [back.lead.status, back.lead.stay.stage] : back.error.message).toEqual(['open', 'demo']);
  });
});

/**
 * The race of docs/process.md ("Versions and leads in flight"): a lead event holding the lead's
 * row lock when `process apply` starts. Apply waits for it (PostgreSQL; SQLite runs one writer at
 * a time), then moves the lead as that event left it: on the new version, the event applied.
 */
describe('process apply racing a lead event on postgres', () => {
  it('a lead moved back while apply runs ends on the new version, in the stage the event chose', async () => {
    const store = await freshStore('postgres');
    open.push(store);
    await applyProcess(store, V1, T0, 'test');
    const engine = new Engine(store);
    await engine.handle({ type: 'lead.created', lead: 'R1', fields: {} }, T0);
    await engine.handle({ type: 'lead.moved', lead: 'R1', stage: 'demo', override: false }, T0 + 60_000);
    expect(await leadRow(store, 'R1')).toEqual({ stage: 'demo', stage_index: 1, process_version: 1, version: 2 });

    // A rename only: no stage's goal or tasks change, so apply sends no event to R1 itself.
    const renamed = V1.replace('name: Close', 'name: Closing');
    let commitEvent = (): void => undefined;
    const eventMayCommit = new Promise<void>((resolve) => (commitEvent = resolve));
    let eventDecided = (): void => undefined;
    const decided = new Promise<void>((resolve) => (eventDecided = resolve));
    const event = withTransaction(store, async (tx) => {
      const [out] = await engine.handleWithin(tx, [
        { event: { type: 'lead.moved', lead: 'R1', stage: 'qualify', override: false }, at: APPLY },
      ]);
      eventDecided();
      await eventMayCommit;
      return out;
    });
    await decided;
    const applied = applyProcess(store, renamed, APPLY, 'test');
    await waitForLockWait(store);
    commitEvent();
    expect((await event)?.ok).toBe(true);
    expect((await applied).version).toBe(2);
    // Created 1, moved 2, moved back 3, new process version 4: an If-Match on 3 is now stale.
    expect(await leadRow(store, 'R1')).toEqual({ stage: 'qualify', stage_index: 0, process_version: 2, version: 4 });
  });

  it('a lead being created when apply starts is waited for and moved to the new version', async () => {
    const store = await freshStore('postgres');
    open.push(store);
    await applyProcess(store, V1, T0, 'test');
    const engine = new Engine(store);
    let commitEvent = (): void => undefined;
    const eventMayCommit = new Promise<void>((resolve) => (commitEvent = resolve));
    let eventDecided = (): void => undefined;
    const decided = new Promise<void>((resolve) => (eventDecided = resolve));
    // N1 is created under version 1 and not yet committed when apply starts: apply cannot see it.
    const created = withTransaction(store, async (tx) => {
      const [out] = await engine.handleWithin(tx, [
        { event: { type: 'lead.created', lead: 'N1', fields: {} }, at: APPLY },
      ]);
      eventDecided();
      await eventMayCommit;
      return out;
    });
    await decided;
    const applied = applyProcess(store, V1.replace('name: Close', 'name: Closing'), APPLY, 'test');
    try {
      await waitForLockWait(store);
    } finally {
      commitEvent();
    }
    expect((await created)?.ok).toBe(true);
    expect((await applied).version).toBe(2);
    expect(await leadRow(store, 'N1')).toMatchObject({ stage: 'qualify', process_version: 2 });
    // One created afterwards runs under the new version.
    expect((await engine.handle({ type: 'lead.created', lead: 'N2', fields: {} }, APPLY))?.ok).toBe(true);
    expect(await leadRow(store, 'N2')).toMatchObject({ process_version: 2 });
  });
});

async function leadRow(store: Store, id: string) {
  return store.db
    .selectFrom('leads')
    .select(['stage', 'stage_index', 'process_version', 'version'])
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Until some statement of this database waits for a row lock (the apply, behind the event). */
async function waitForLockWait(store: Store): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(store.db);
    if (Number(rows[0]?.n) > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('apply never waited for the lead event');
}
