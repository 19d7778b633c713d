import { sql, type SqlBool } from 'kysely';
import type { Tx } from './db.js';
import { taskFromRow } from './leads.js';
import type { TaskRecord } from './queries.js';

/**
 * Task lists for the API: a rep's work queue, a lead's tasks, overdue work. A task is within reach
 * if its lead is, or if it is assigned to someone within reach (a rep sees tasks assigned to them
 * on a colleague's lead). Earliest due first, with keyset pagination on (due time, id).
 */

export interface TaskSearch {
  assignee?: string | undefined;
  lead?: string | undefined;
  status?: string | undefined;
  overdueAt?: number | undefined;
  /** Only open tasks not yet past their overdue time at this instant (`overdue=false`). */
  notOverdueAt?: number | undefined;
  /** Due at or after `dueFrom` and before `dueTo` (half-open, as every time filter). */
  dueFrom?: number | undefined;
  dueTo?: number | undefined;
  reach: readonly string[] | null;
  limit: number;
  after?: { due: number; id: string } | undefined;
}

export type TaskHit = TaskRecord & { leadOwner: string | null };

export async function searchTasks(
  db: Tx,
  s: TaskSearch,
): Promise<{ rows: TaskHit[]; next: { due: number; id: string } | null }> {
  let q = db
    .selectFrom('tasks')
    .innerJoin('stage_stays', 'stage_stays.id', 'tasks.stay_id')
    .innerJoin('leads', 'leads.id', 'tasks.lead_id')
    .selectAll('tasks')
    .select(['stage_stays.stage', 'leads.owner as lead_owner']);
  if (s.reach !== null) {
    const reach = s.reach;
    q =
      reach.length === 0
        ? q.where(sql<SqlBool>`1 = 0`)
        : q.where((eb) => eb.or([eb('tasks.assignee', 'in', reach), eb('leads.owner', 'in', reach)]));
  }
  if (s.assignee) q = q.where('tasks.assignee', '=', s.assignee);
  if (s.lead) q = q.where('tasks.lead_id', '=', s.lead);
  if (s.status) q = q.where('tasks.status', '=', s.status);
  if (s.overdueAt !== undefined) q = q.where('tasks.status', '=', 'open').where('tasks.overdue_at', '<=', s.overdueAt);
  if (s.notOverdueAt !== undefined)
    q = q.where('tasks.status', '=', 'open').where('tasks.overdue_at', '>', s.notOverdueAt);
  if (s.dueFrom !== undefined) q = q.where('tasks.due_at', '>=', s.dueFrom);
  if (s.dueTo !== undefined) q = q.where('tasks.due_at', '<', s.dueTo);
  if (s.after) {
    const { due, id } = s.after;
    q = q.where(sql<SqlBool>`(tasks.due_at > ${due} or (tasks.due_at = ${due} and tasks.id > ${id}))`);
  }
  const rows = await q
    .orderBy('tasks.due_at')
    .orderBy('tasks.id')
    .limit(s.limit + 1)
    .execute();
  const hits = rows
    .slice(0, s.limit)
    .map((r) => ({ ...taskFromRow(r), lead: r.lead_id, stage: r.stage, leadOwner: r.lead_owner }));
  const last = hits[hits.length - 1];
  return { rows: hits, next: rows.length > s.limit && last ? { due: last.dueAt, id: last.id } : null };
}

export async function findTaskHit(db: Tx, id: string): Promise<TaskHit | null> {
  const { rows } = await searchTasksById(db, id);
  return rows[0] ?? null;
}

async function searchTasksById(db: Tx, id: string): Promise<{ rows: TaskHit[] }> {
  const r = await db
    .selectFrom('tasks')
    .innerJoin('stage_stays', 'stage_stays.id', 'tasks.stay_id')
    .innerJoin('leads', 'leads.id', 'tasks.lead_id')
    .selectAll('tasks')
    .select(['stage_stays.stage', 'leads.owner as lead_owner'])
    .where('tasks.id', '=', id)
    .executeTakeFirst();
  return { rows: r ? [{ ...taskFromRow(r), lead: r.lead_id, stage: r.stage, leadOwner: r.lead_owner }] : [] };
}
