import { sql } from 'kysely';
import type { Tx } from './db.js';

/**
 * The pipeline board a front end draws (Pipedrive's pipeline view, HubSpot's deal board): for each
 * pipeline and stage, the count and value of the open leads in it, and the leads that have sat there
 * longest, up to `perStage` of them, with their open tasks. Open leads only, filtered in SQL, so a
 * refresh reads what the columns show and not the organisation's history.
 */

export interface BoardFilter {
  /** Only leads these people own; null for every lead (an admin). An empty list matches nothing. */
  owners: readonly string[] | null;
  pipeline?: string | undefined;
  /** Leads listed per stage; the counts and values cover them all. */
  perStage: number;
}

export interface BoardColumn {
  pipeline: string;
  stage: string;
  count: number;
  /** Sum of the open leads' values, minor units; leads without a value count as nothing. */
  valueMinor: number;
}

export interface BoardLead {
  id: string;
  name: string | null;
  pipeline: string;
  stage: string;
  status: string;
  owner: string | null;
  valueMinor: number | null;
  stageEnteredAt: number;
}

export interface BoardView {
  columns: BoardColumn[];
  leads: BoardLead[];
  openTasks: { lead: string; template: string; assignee: string | null; dueAt: number }[];
}

/** Bound parameters per IN list, well under SQLite's and PostgreSQL's limits. */
const CHUNK = 900;

export async function boardView(db: Tx, filter: BoardFilter): Promise<BoardView> {
  if (filter.owners !== null && filter.owners.length === 0) return { columns: [], leads: [], openTasks: [] };
  const where = sql.join(
    [
      sql`status = 'open'`,
      ...(filter.owners === null ? [] : [sql`owner in (${sql.join(filter.owners)})`]),
      ...(filter.pipeline === undefined ? [] : [sql`pipeline = ${filter.pipeline}`]),
    ],
    sql` and `,
  );
  const [columns, leads] = await Promise.all([
    sql<{ pipeline: string; stage: string; n: number | string; value: number | string | null }>`
      select pipeline, stage, count(*) as n, sum(value_minor) as value
      from leads where ${where}
      group by pipeline, stage`.execute(db),
    sql<{
      id: string;
      name: string | null;
      pipeline: string;
      stage: string;
      status: string;
      owner: string | null;
      value_minor: number | string | null;
      stage_entered_at: number | string;
    }>`
      select id, name, pipeline, stage, status, owner, value_minor, stage_entered_at from (
        select id, name, pipeline, stage, status, owner, value_minor, stage_entered_at,
          row_number() over (partition by pipeline, stage order by stage_entered_at, id) as place
        from leads where ${where}
      ) ranked
      where place <= ${filter.perStage}
      order by pipeline, stage, stage_entered_at, id`.execute(db),
  ]);
  const ids = leads.rows.map((l) => l.id);
  const tasks: BoardView['openTasks'] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .selectFrom('tasks')
      .select(['lead_id', 'template', 'assignee', 'due_at'])
      .where('status', '=', 'open')
      .where('lead_id', 'in', ids.slice(i, i + CHUNK))
      .orderBy('due_at')
      .orderBy('id')
      .execute();
    for (const t of rows)
      tasks.push({ lead: t.lead_id, template: t.template, assignee: t.assignee, dueAt: Number(t.due_at) });
  }
  tasks.sort((a, b) => a.dueAt - b.dueAt);
  return {
    columns: columns.rows.map((c) => ({
      pipeline: c.pipeline,
      stage: c.stage,
      count: Number(c.n),
      valueMinor: Number(c.value ?? 0),
    })),
    leads: leads.rows.map((l) => ({
      id: l.id,
      name: l.name,
      pipeline: l.pipeline,
      stage: l.stage,
      status: l.status,
      owner: l.owner,
      valueMinor: l.value_minor === null ? null : Number(l.value_minor),
      stageEnteredAt: Number(l.stage_entered_at),
    })),
    openTasks: tasks,
  };
}
