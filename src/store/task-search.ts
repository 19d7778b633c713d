import { sql, type SqlBool } from 'kysely';
import type { DialectName, Tx } from './db.js';
import { nullKey, personName } from './lead-search.js';
import { taskFromRow } from './leads.js';
import type { TaskRecord } from './queries.js';

/**
 * Task lists for the API: a rep's work queue, a lead's tasks, overdue work. A task is within reach
 * if its lead is, or if it is assigned to someone within reach (a rep sees tasks assigned to them
 * on a colleague's lead). Each task comes with what a work queue shows of its lead (its name, the
 * person, company, value, pipeline), read in the same query, but only when the caller reaches the
 * lead itself to work it (src/http/access.ts reachesLead): through its owner, or an open task on it
 * assigned to someone in reach. A rep's done task on a colleague's lead stays in her queue while
 * the lead is a 404 to her, so it comes without the lead. Earliest due first unless `sort` and
 * `order` say otherwise, with keyset pagination on (sort key, id).
 */

/** The orders a work queue is listed in, and the column each reads. */
export const TASK_SORTS = {
  due_at: 'tasks.due_at',
  overdue_at: 'tasks.overdue_at',
  created_at: 'tasks.created_at',
  /**
   * The lead's value: the biggest deals first with order=desc; leads without one, and leads out of
   * the caller's reach (whose value is not shown), come last.
   */
  value: 'leads.value_minor',
} as const;
export type TaskSort = keyof typeof TASK_SORTS;

export interface TaskSearch {
  /** One task by its id (GET /tasks/{id}: the same row a work queue shows). */
  id?: string | undefined;
  assignee?: string | undefined;
  /** Tasks assigned to any of these people (a team's members). */
  assignees?: readonly string[] | undefined;
  lead?: string | undefined;
  status?: string | undefined;
  /** The pipeline and stage of the task's stay. */
  pipeline?: string | undefined;
  stage?: string | undefined;
  overdueAt?: number | undefined;
  /** Only open tasks not yet past their overdue time at this instant (`overdue=false`). */
  notOverdueAt?: number | undefined;
  /** Due at or after `dueFrom` and before `dueTo` (half-open, as every time filter). */
  dueFrom?: number | undefined;
  dueTo?: number | undefined;
  reach: readonly string[] | null;
  sort?: TaskSort | undefined;
  order?: 'asc' | 'desc' | undefined;
  limit: number;
  after?: { value: number; id: string } | undefined;
}

export type TaskHit = TaskRecord & { leadOwner: string | null };

/** What a work queue shows of a task's lead beside the task. */
export interface TaskLead {
  name: string | null;
  /** The person, "first last" from the fields first_name and last_name; null without either. */
  person: string | null;
  company: string | null;
  valueMinor: number | null;
  status: string;
  pipeline: string;
}

/** `pipeline` is the task's stay's; `leadSummary` is null when the caller does not reach the lead. */
export type TaskQueueHit = TaskHit & { pipeline: string; leadSummary: TaskLead | null };

export async function searchTasks(
  db: Tx,
  s: TaskSearch,
  dialect: DialectName,
): Promise<{ rows: TaskQueueHit[]; next: { value: number; id: string } | null }> {
  const sort = s.sort ?? 'due_at';
  const order = s.order ?? 'asc';
  const reached = leadReached(s.reach);
  // Only the lead's value can be missing, or hidden (sorting by it would tell it); the task's
  // times are always set, and compared bare so the assignee's (assignee, status, due_at) index
  // still orders the queue.
  const key =
    sort === 'value'
      ? sql<number>`coalesce(case when ${reached} then leads.value_minor end, ${nullKey(order)})`
      : sql<number>`${sql.ref(TASK_SORTS[sort])}`;
  let q = db
    .selectFrom('tasks')
    .innerJoin('stage_stays', 'stage_stays.id', 'tasks.stay_id')
    .innerJoin('leads', 'leads.id', 'tasks.lead_id')
    .selectAll('tasks')
    .select([
      'stage_stays.stage',
      'stage_stays.pipeline',
      'leads.owner as lead_owner',
      'leads.name as lead_name',
      'leads.company as lead_company',
      'leads.value_minor as lead_value_minor',
      'leads.status as lead_status',
      // `fields` is the lead's: neither tasks nor stays have such a column.
      sql<string>`${personName(dialect)}`.as('lead_person'),
      sql<number>`case when ${reached} then 1 else 0 end`.as('lead_reached'),
    ]);
  if (s.reach !== null) {
    const reach = s.reach;
    q =
      reach.length === 0
        ? q.where(sql<SqlBool>`1 = 0`)
        : q.where((eb) => eb.or([eb('tasks.assignee', 'in', reach), eb('leads.owner', 'in', reach)]));
  }
  if (s.id !== undefined) q = q.where('tasks.id', '=', s.id);
  if (s.assignee) q = q.where('tasks.assignee', '=', s.assignee);
  if (s.assignees)
    q = s.assignees.length === 0 ? q.where(sql<SqlBool>`1 = 0`) : q.where('tasks.assignee', 'in', s.assignees);
  if (s.lead) q = q.where('tasks.lead_id', '=', s.lead);
  if (s.status) q = q.where('tasks.status', '=', s.status);
  if (s.pipeline) q = q.where('stage_stays.pipeline', '=', s.pipeline);
  if (s.stage) q = q.where('stage_stays.stage', '=', s.stage);
  if (s.overdueAt !== undefined) q = q.where('tasks.status', '=', 'open').where('tasks.overdue_at', '<=', s.overdueAt);
  if (s.notOverdueAt !== undefined)
    q = q.where('tasks.status', '=', 'open').where('tasks.overdue_at', '>', s.notOverdueAt);
  if (s.dueFrom !== undefined) q = q.where('tasks.due_at', '>=', s.dueFrom);
  if (s.dueTo !== undefined) q = q.where('tasks.due_at', '<', s.dueTo);
  if (s.after) {
    const { value, id } = s.after;
    q =
      order === 'asc'
        ? q.where(sql<SqlBool>`(${key} > ${value} or (${key} = ${value} and tasks.id > ${id}))`)
        : q.where(sql<SqlBool>`(${key} < ${value} or (${key} = ${value} and tasks.id < ${id}))`);
  }
  const rows = await q
    .orderBy(key, order)
    .orderBy('tasks.id', order)
    .limit(s.limit + 1)
    .execute();
  const hits: TaskQueueHit[] = rows.slice(0, s.limit).map((r) => ({
    ...taskFromRow(r),
    lead: r.lead_id,
    stage: r.stage,
    leadOwner: r.lead_owner,
    pipeline: r.pipeline,
    leadSummary:
      Number(r.lead_reached) === 1
        ? {
            name: r.lead_name,
            person: r.lead_person === '' ? null : r.lead_person,
            company: r.lead_company,
            valueMinor: r.lead_value_minor,
            status: r.lead_status,
            pipeline: r.pipeline,
          }
        : null,
  }));
  const last = hits[hits.length - 1];
  if (rows.length <= s.limit || !last) return { rows: hits, next: null };
  const value =
    sort === 'value'
      ? (last.leadSummary?.valueMinor ?? nullKey(order))
      : sort === 'overdue_at'
        ? last.overdueAt
        : sort === 'created_at'
          ? last.createdAt
          : last.dueAt;
  return { rows: hits, next: { value, id: last.id } };
}

/**
 * Whether the caller reaches the task's lead to work it, as reachesLead: everyone's (`null`), or
 * its owner in reach, or an open task on it assigned to someone in reach.
 */
function leadReached(reach: readonly string[] | null) {
  if (reach === null) return sql<SqlBool>`1 = 1`;
  if (reach.length === 0) return sql<SqlBool>`1 = 0`;
  const within = sql.join(reach.map((r) => sql`${r}`));
  return sql<SqlBool>`(leads.owner in (${within}) or exists (
    select 1 from tasks as open_tasks
    where open_tasks.lead_id = leads.id and open_tasks.status = 'open' and open_tasks.assignee in (${within})))`;
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
