import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess, diffAgainstCurrent, ProcessRejected } from '../../src/engine/process-service.js';
import { fireTimers } from '../../src/engine/scheduler.js';
import type { StayState, TaskState } from '../../src/domain/lead.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * A new version's stall and overdue thresholds reach the open leads already in flight
 * (docs/process.md, versions and leads in flight): open stays get the new stall time counted from
 * their entry, open tasks the new overdue time counted from their due time, in the apply's
 * transaction; an alert already sent is not sent again. On a real SQLite file and a real PostgreSQL.
 */

const V1 = `name: Thresholds
organisation: { timezone: UTC, overdue_after_hours: 24, default_stall_days: 10 }
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
      - id: demo
        name: Demo
        stall_after_days: 2
        goal: { signal: trial_started }
      - id: close
        name: Close
`;

/** Qualify follows the default (10 -> 20 days), demo its own (2 -> 30), overdue 24 -> 48 hours. */
const V2 = V1.replace(
  'overdue_after_hours: 24, default_stall_days: 10',
  'overdue_after_hours: 48, default_stall_days: 20',
).replace('stall_after_days: 2', 'stall_after_days: 30');

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-02T09:00:00Z');
const APPLY = T0 + 2.5 * DAY;

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('process apply and the stall and overdue thresholds of leads in flight on %s', (dialect) => {
  /**
   * A and B in qualify (entered T0 and T0 + 1 day, calls due a day later), C in demo since
   * T0 + 1 min. Ticked at T0 + 2.5 days: A's call is past its overdue alert (sent), B's not
   * yet; C's stay stalled (alert sent).
   */
  async function setup(): Promise<{ store: Store; engine: Engine }> {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, V1, T0, 'test');
    const engine = new Engine(store);
    await engine.handle({ type: 'lead.created', lead: 'A', fields: {} }, T0);
    await engine.handle({ type: 'lead.created', lead: 'C', fields: {} }, T0);
    await engine.handle({ type: 'task.completed', lead: 'C', task: 'C#1:call' }, T0 + 60_000);
    await engine.handle({ type: 'lead.created', lead: 'B', fields: {} }, T0 + DAY);
    await fireTimers(engine, APPLY, 'until');
    return { store, engine };
  }

  const stay = async (store: Store, id: string): Promise<{ stall_at: number | null; stalled_at: number | null }> =>
    store.db
      .selectFrom('stage_stays')
      .select(['stall_at', 'stalled_at'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  const task = async (
    store: Store,
    id: string,
  ): Promise<{ due_at: number; overdue_at: number; overdue_fired: number }> =>
    store.db
      .selectFrom('tasks')
      .select(['due_at', 'overdue_at', 'overdue_fired'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  /** The working set on the lead row, which the engine decides from. */
  const working = async (store: Store, lead: string): Promise<{ stay: StayState; tasks: TaskState[] }> => {
    const row = await store.db.selectFrom('leads').select('state').where('id', '=', lead).executeTakeFirstOrThrow();
    return JSON.parse(row.state) as { stay: StayState; tasks: TaskState[] };
  };
  const alerts = async (store: Store, kind: string): Promise<string[]> =>
    (await store.db.selectFrom('outbox').select('lead_id').where('kind', '=', kind).orderBy('lead_id').execute()).map(
      (r) => r.lead_id,
    );

  it('diff says what the open leads get; apply moves open stays and tasks to the new thresholds, alerts sent stay sent', async () => {
    const { store, engine } = await setup();
    expect(await alerts(store, 'stage.stalled')).toEqual(['C']);
    expect(await alerts(store, 'task.overdue')).toEqual(['A']);

    const lines = [
      'stage nb/qualify stalls after 20 days instead of 10: 2 open leads in it: stall alert now 20 days after entry',
      'stage nb/demo stalls after 30 days instead of 2: 1 open lead in it: stall alert now 30 days after entry; 1 already alerted stays alerted and is not alerted again',
      'stage nb/close stalls after 20 days instead of 10: no open leads in it',
      'organisation overdue_after_hours 24 -> 48: 2 open tasks: overdue alert now 48 hours after due (due times unchanged); 1 already alerted stays alerted and is not alerted again',
    ];
    expect((await diffAgainstCurrent(store, V2)).inFlight).toEqual(lines);
    const applied = await applyProcess(store, V2, APPLY, 'anna');
    expect(applied.diff.inFlight).toEqual(lines);
    expect(applied.rescheduled).toEqual({ stays: 2, tasks: 1 });

    // Counted from entry and from the due time; the due time itself does not move.
    expect(await stay(store, 'A#1')).toEqual({ stall_at: T0 + 20 * DAY, stalled_at: null });
    expect(await stay(store, 'B#1')).toEqual({ stall_at: T0 + DAY + 20 * DAY, stalled_at: null });
    expect(await task(store, 'B#1:call')).toEqual({ due_at: T0 + 2 * DAY, overdue_at: T0 + 4 * DAY, overdue_fired: 0 });
    // Already alerted: left as sent (stamped when it crossed its threshold, though ticked later).
    expect(await stay(store, 'C#2')).toEqual({ stall_at: T0 + 60_000 + 2 * DAY, stalled_at: T0 + 60_000 + 2 * DAY });
    expect(await task(store, 'A#1:call')).toEqual({ due_at: T0 + DAY, overdue_at: T0 + 2 * DAY, overdue_fired: 1 });
    // The working set says the same as the rows.
    expect((await working(store, 'A')).stay.stallAt).toBe(T0 + 20 * DAY);
    expect((await working(store, 'B')).tasks.map((t) => [t.id, t.dueAt, t.overdueAt])).toEqual([
      ['B#1:call', T0 + 2 * DAY, T0 + 4 * DAY],
    ]);
    expect((await working(store, 'C')).stay.stallAt).toBe(T0 + 60_000 + 2 * DAY);

    // B's call was overdue at T0 + 3 days under 24 hours; under 48 it is at T0 + 4 days.
    await fireTimers(engine, T0 + 3.5 * DAY, 'until');
    expect(await alerts(store, 'task.overdue')).toEqual(['A']);
    await fireTimers(engine, T0 + 4 * DAY, 'until');
    expect(await alerts(store, 'task.overdue')).toEqual(['A', 'B']);
    // A and B would have stalled at 10 days; C is not alerted a second time.
    await fireTimers(engine, T0 + 15 * DAY, 'until');
    expect(await alerts(store, 'stage.stalled')).toEqual(['C']);
    await fireTimers(engine, T0 + 22 * DAY, 'until');
    expect(await alerts(store, 'stage.stalled')).toEqual(['A', 'B', 'C']);
  });

  it('a shorter threshold alerts the leads already past it at the next tick, once', async () => {
    const { store, engine } = await setup();
    await applyProcess(store, V2, APPLY, 'anna');
    const V3 = V2.replace('default_stall_days: 20', 'default_stall_days: 1.6');
    const at = T0 + 2.55 * DAY;
    const diff = await diffAgainstCurrent(store, V3);
    expect(diff.inFlight).toEqual([
      'stage nb/qualify stalls after 1.6 days instead of 20: 2 open leads in it: stall alert now 1.6 days after entry; those in it 1.6 days or longer are alerted at the next tick',
      'stage nb/close stalls after 1.6 days instead of 20: no open leads in it',
    ]);
    expect((await applyProcess(store, V3, at, 'anna')).rescheduled).toEqual({ stays: 2, tasks: 0 });
    // A entered at T0 (past 1.6 days), B at T0 + 1 day (not yet: at T0 + 2.6 days).
    await fireTimers(engine, at, 'until');
    expect(await alerts(store, 'stage.stalled')).toEqual(['A', 'C']);
    await fireTimers(engine, T0 + 3 * DAY, 'until');
    expect(await alerts(store, 'stage.stalled')).toEqual(['A', 'B', 'C']);
  });

  it('a refused apply moves no threshold, and names the removed stage by its place in the current version', async () => {
    const { store } = await setup();
    const withoutDemo = V2.replace(/ {6}- id: demo[\s\S]*?(?= {6}- id: close)/, '');
    const diff = await diffAgainstCurrent(store, withoutDemo);
    expect(diff.inFlight[0]).toBe(
      'stage nb/demo (pipelines[0].stages[1] in the current version) is removed but holds 1 open lead: apply will be refused; move it first',
    );
    const refused = applyProcess(store, withoutDemo, APPLY, 'anna');
    await expect(refused).rejects.toThrow(ProcessRejected);
    await expect(refused).rejects.toThrow(
      'pipelines[0].stages[1] in the current version: stage nb/demo is removed but holds 1 open lead; move it to another stage first',
    );
    expect(await stay(store, 'A#1')).toEqual({ stall_at: T0 + 10 * DAY, stalled_at: null });
    expect(await task(store, 'B#1:call')).toMatchObject({ overdue_at: T0 + 3 * DAY });
    expect((await working(store, 'A')).stay.stallAt).toBe(T0 + 10 * DAY);
  });
});
