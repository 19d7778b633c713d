import { sql } from 'kysely';
import type { StayState, TaskState } from '../domain/lead.js';
import type { Tx } from './db.js';

/**
 * A new process version's stall and overdue thresholds, brought to the open leads already under
 * way (docs/process.md, versions and leads in flight). decide() fixes a stay's `stall_at` when it
 * is entered and a task's `overdue_at` when it is created; without this, a lead entered under a
 * 2-day threshold was flagged stalled after 2 days under a version that says 30. The new time
 * counts from the same start the engine counts from (entry, due time); due times stay as they are.
 * An alert already sent (stay stalled, task overdue_fired) is left alone, so it never fires twice.
 * The lead row's working set and the stay and task rows are written alike: the timers read the
 * rows, and the engine writes a stay or task from the working set when it has no row yet.
 */

export interface StallThreshold {
  pipeline: string;
  stage: string;
  /** Milliseconds after entry. */
  afterMs: number;
}

export interface NewThresholds {
  /** The stages whose stall threshold changed. */
  stall: readonly StallThreshold[];
  /** Milliseconds after the due time, when the organisation's overdue_after_hours changed. */
  overdueAfterMs: number | null;
}

export interface Rescheduled {
  /** Open stays given a new stall time. */
  stays: number;
  /** Open tasks given a new overdue time. */
  tasks: number;
}

/** The part of a lead's working set this touches; the rest is written back as it was read. */
interface WorkingTimes {
  stay: StayState;
  tasks: TaskState[];
}

interface LeadChange {
  id: string;
  state: string;
  stays: { id: string; afterMs: number }[];
  tasks: string[];
}

const PAGE = 500;

export async function rescheduleThresholds(tx: Tx, t: NewThresholds): Promise<Rescheduled> {
  const done: Rescheduled = { stays: 0, tasks: 0 };
  if (t.stall.length === 0 && t.overdueAfterMs === null) return done;
  const stallAfter = new Map(t.stall.map((s) => [`${s.pipeline}/${s.stage}`, s.afterMs]));
  let after = '';
  for (;;) {
    const page = await openLeadsPage(tx, t, after);
    if (page.length === 0) return done;
    after = page[page.length - 1]?.id ?? after;
    const changes = page
      .map((row) => retime(row.id, row.state, stallAfter, t.overdueAfterMs))
      .filter((c): c is LeadChange => c !== null);
    await writeStates(tx, changes);
    done.stays += await writeStallTimes(tx, changes);
    if (t.overdueAfterMs !== null) done.tasks += await writeOverdueTimes(tx, changes, t.overdueAfterMs);
  }
}

/** Open leads in the changed stages (every open lead when the overdue time changed), by id. */
function openLeadsPage(tx: Tx, t: NewThresholds, after: string): Promise<{ id: string; state: string }[]> {
  let q = tx.selectFrom('leads').select(['id', 'state']).where('status', '=', 'open').where('id', '>', after);
  if (t.overdueAfterMs === null)
    q = q.where((eb) =>
      eb.or(t.stall.map((s) => eb.and([eb('pipeline', '=', s.pipeline), eb('stage', '=', s.stage)]))),
    );
  return q.orderBy('id').limit(PAGE).execute();
}

/** The lead's working set with the new times, or null when nothing in it moves. */
function retime(
  id: string,
  text: string,
  stallAfter: ReadonlyMap<string, number>,
  overdueAfterMs: number | null,
): LeadChange | null {
  const book = JSON.parse(text) as WorkingTimes;
  const change: LeadChange = { id, state: '', stays: [], tasks: [] };
  const stay = book.stay;
  const afterMs = stallAfter.get(`${stay.pipeline}/${stay.stage}`);
  if (afterMs !== undefined && stay.stalledAt === null && stay.stallAt !== stay.enteredAt + afterMs) {
    stay.stallAt = stay.enteredAt + afterMs;
    change.stays.push({ id: stay.id, afterMs });
  }
  if (overdueAfterMs !== null)
    for (const task of book.tasks) {
      if (task.status !== 'open' || task.overdueFired || task.overdueAt === task.dueAt + overdueAfterMs) continue;
      task.overdueAt = task.dueAt + overdueAfterMs;
      change.tasks.push(task.id);
    }
  if (change.stays.length === 0 && change.tasks.length === 0) return null;
  change.state = JSON.stringify(book);
  return change;
}

/** One UPDATE per page: each lead's state by a CASE on its id. */
async function writeStates(tx: Tx, changes: readonly LeadChange[]): Promise<void> {
  if (changes.length === 0) return;
  const cases = sql.join(
    changes.map((c) => sql`when ${c.id} then ${c.state}`),
    sql` `,
  );
  await tx
    .updateTable('leads')
    .set({ state: sql<string>`case ${sql.ref('id')} ${cases} end` })
    .where(
      'id',
      'in',
      changes.map((c) => c.id),
    )
    .execute();
}

async function writeStallTimes(tx: Tx, changes: readonly LeadChange[]): Promise<number> {
  const byThreshold = new Map<number, string[]>();
  for (const s of changes.flatMap((c) => c.stays))
    byThreshold.set(s.afterMs, [...(byThreshold.get(s.afterMs) ?? []), s.id]);
  let n = 0;
  for (const [afterMs, ids] of byThreshold) {
    const res = await tx
      .updateTable('stage_stays')
      .set({ stall_at: sql<number>`${sql.ref('entered_at')} + ${afterMs}` })
      .where('id', 'in', ids)
      .where('exited_at', 'is', null)
      .where('stalled_at', 'is', null)
      .executeTakeFirst();
    n += Number(res.numUpdatedRows);
  }
  return n;
}

async function writeOverdueTimes(tx: Tx, changes: readonly LeadChange[], afterMs: number): Promise<number> {
  const ids = changes.flatMap((c) => c.tasks);
  if (ids.length === 0) return 0;
  const res = await tx
    .updateTable('tasks')
    .set({ overdue_at: sql<number>`${sql.ref('due_at')} + ${afterMs}` })
    .where('id', 'in', ids)
    .where('status', '=', 'open')
    .where('overdue_fired', '=', 0)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Per stage, the open leads whose current stay was already flagged stalled. */
export async function stalledOpenLeadCounts(tx: Tx): Promise<{ pipeline: string; stage: string; n: number }[]> {
  const rows = await tx
    .selectFrom('leads')
    .innerJoin('stage_stays', 'stage_stays.id', 'leads.stay_id')
    .select(['leads.pipeline', 'leads.stage', (eb) => eb.fn.countAll<number>().as('n')])
    .where('leads.status', '=', 'open')
    .where('stage_stays.stalled_at', 'is not', null)
    .groupBy(['leads.pipeline', 'leads.stage'])
    .execute();
  return rows.map((r) => ({ pipeline: r.pipeline, stage: r.stage, n: Number(r.n) }));
}

/** The open tasks of open leads, and how many of them already had their overdue alert. */
export async function openTaskCounts(tx: Tx): Promise<{ open: number; alerted: number }> {
  const row = await tx
    .selectFrom('tasks')
    .innerJoin('leads', 'leads.id', 'tasks.lead_id')
    .select([
      (eb) => eb.fn.countAll<number>().as('open'),
      (eb) => eb.fn.sum<number | null>('tasks.overdue_fired').as('alerted'),
    ])
    .where('leads.status', '=', 'open')
    .where('tasks.status', '=', 'open')
    .executeTakeFirstOrThrow();
  return { open: Number(row.open), alerted: Number(row.alerted ?? 0) };
}
