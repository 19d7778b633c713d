import { sql, type RawBuilder } from 'kysely';
import type { Tx } from '../db.js';
import { pipelineFilter, withTables, type ReportScope } from './scope.js';
import { valuesTable } from './values-table.js';

/**
 * The counts behind METRICS.md §1 (adoption), per rep, team or the whole organisation. Adoption is
 * about people, so a figure belongs to the rep who did (or should have done) the work: a task to its
 * assignee, a stage exit and a neglected lead to the lead's owner at that moment (from
 * owner_history), an activity to the user who logged it (else the lead's owner then). Imported
 * stays were not worked in Stageflow and are left out (see docs/reports.md, adoption).
 */

/** Which rep a row belongs to, as a group key: 'all', the rep, or the rep's team under `version`. */
function repKey(
  scope: ReportScope,
  rep: RawBuilder<unknown>,
  version: RawBuilder<unknown>,
): { expr: RawBuilder<unknown>; join: RawBuilder<unknown> } {
  if (scope.by === 'owner') return { expr: sql`coalesce(${rep}, '')`, join: sql`` };
  if (scope.by === 'team')
    return {
      expr: sql`coalesce(tm.team, '')`,
      join: sql`left join team_map tm on tm.version = ${version} and tm.user_id = ${rep}`,
    };
  return { expr: sql`'all'`, join: sql`` };
}

/**
 * Who owned each lead when: [starts, ends) from owner_history (ends null while current). A lead
 * without history (imported) is owned by its owner since it was created.
 */
const ownerSpans = sql`owner_spans (lead_id, owner, starts, ends) as (
    select lead_id, to_owner, at, lead(at) over (partition by lead_id order by seq, idx)
    from owner_history
    union all
    select l.id, l.owner, l.created_at, null
    from leads l
    where l.owner is not null and not exists (select 1 from owner_history h where h.lead_id = l.id)
  )`;

/** `os` joined as the owner of `lead` at instant `at` (a change at `at` counts from `at`). */
function ownerAt(lead: RawBuilder<unknown>, at: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`left join owner_spans os on os.lead_id = ${lead} and os.starts <= ${at} and (os.ends is null or os.ends > ${at})`;
}

type Raw = Record<string, string | number | null>;

function num(v: string | number | null | undefined): number {
  return v === null || v === undefined ? 0 : Number(v);
}

export interface TaskTimeliness {
  key: string;
  due: number;
  onTime: number;
  late: number;
  open: number;
  skipped: number;
}

/**
 * Process tasks due in [from, until) that the engine did not skip before they were due, by their
 * assignee: completed on time, completed late, still open, skipped after they were due. `until`
 * is min(to, now): a task not yet due cannot be judged.
 */
export async function taskTimeliness(tx: Tx, scope: ReportScope, until: number): Promise<TaskTimeliness[]> {
  const k = repKey(scope, sql`coalesce(t.assignee, l.owner)`, sql`l.process_version`);
  const res = await sql<Raw>`${withTables(scope)}
    select ${k.expr} as key,
      count(*) as due,
      sum(case when t.completed_at is not null and t.completed_at <= t.due_at then 1 else 0 end) as on_time,
      sum(case when t.completed_at is not null and t.completed_at > t.due_at then 1 else 0 end) as late,
      sum(case when t.status = 'open' then 1 else 0 end) as still_open,
      sum(case when t.status = 'skipped' then 1 else 0 end) as skipped
    from tasks t
    join leads l on l.id = t.lead_id
    join stage_stays s on s.id = t.stay_id
    ${k.join}
    where t.due_at >= ${scope.from} and t.due_at < ${until}
      and (t.skipped_at is null or t.skipped_at >= t.due_at)
      ${pipelineFilter(scope, sql`s.pipeline`)}
    group by 1
    order by 1`.execute(tx);
  return res.rows.map((r) => ({
    key: String(r['key']),
    due: num(r['due']),
    onTime: num(r['on_time']),
    late: num(r['late']),
    open: num(r['still_open']),
    skipped: num(r['skipped']),
  }));
}

export interface ForwardExits {
  key: string;
  forward: number;
  goal: number;
}

/**
 * Forward stage exits in the period: a `goal` or `moved` exit whose next stay (the lead's next by
 * seq) is in the same pipeline at a higher index. A move the import recorded (its next stay is
 * imported) is not a person bypassing the process and is left out; a move in Stageflow out of an
 * imported stay counts.
 */
export async function forwardExits(tx: Tx, scope: ReportScope): Promise<ForwardExits[]> {
  const k = repKey(scope, sql`os.owner`, sql`l.process_version`);
  const inPeriod = sql`exited_at >= ${scope.from} and exited_at < ${scope.to} and exit_kind in ('goal', 'moved')`;
  const res = await sql<Raw>`${withTables(scope, [
    ownerSpans,
    sql`x as (
      select s.lead_id, s.pipeline, s.stage_index, s.exit_kind, s.exited_at,
        lead(s.pipeline) over (partition by s.lead_id order by s.seq) as next_pipeline,
        lead(s.stage_index) over (partition by s.lead_id order by s.seq) as next_index,
        lead(s.imported) over (partition by s.lead_id order by s.seq) as next_imported
      from stage_stays s
      where s.lead_id in (select lead_id from stage_stays where ${inPeriod})
    )`,
  ])}
    select ${k.expr} as key,
      count(*) as forward,
      sum(case when x.exit_kind = 'goal' then 1 else 0 end) as goal
    from x
    join leads l on l.id = x.lead_id
    ${ownerAt(sql`x.lead_id`, sql`x.exited_at`)}
    ${k.join}
    where x.exited_at >= ${scope.from} and x.exited_at < ${scope.to} and x.exit_kind in ('goal', 'moved')
      and x.next_pipeline = x.pipeline and x.next_index > x.stage_index and x.next_imported = 0
      ${pipelineFilter(scope, sql`x.pipeline`)}
    group by 1
    order by 1`.execute(tx);
  return res.rows.map((r) => ({ key: String(r['key']), forward: num(r['forward']), goal: num(r['goal']) }));
}

export interface Neglect {
  key: string;
  open: number;
  neglected: number;
}

/**
 * Leads open just before `at` (in a Stageflow stay that began before `at` and had not ended before
 * it), by their owner then; neglected when they had no open task at `at` and no task completed or
 * activity logged in [at - windowMs, at).
 */
export async function neglectedLeads(tx: Tx, scope: ReportScope, at: number, windowMs: number): Promise<Neglect[]> {
  const k = repKey(scope, sql`os.owner`, sql`l.process_version`);
  const since = at - windowMs;
  const res = await sql<Raw>`${withTables(scope, [
    ownerSpans,
    sql`o as (
      select s.lead_id, s.pipeline from stage_stays s
      where s.imported = 0 and s.entered_at < ${at} and (s.exited_at is null or s.exited_at >= ${at})
    )`,
  ])}
    select ${k.expr} as key,
      count(*) as open_leads,
      sum(case
        when exists (
          select 1 from tasks t where t.lead_id = o.lead_id and (
            (t.created_at < ${at} and (t.completed_at is null or t.completed_at >= ${at})
              and (t.skipped_at is null or t.skipped_at >= ${at}))
            or (t.completed_at >= ${since} and t.completed_at < ${at})))
          or exists (select 1 from activities a where a.lead_id = o.lead_id and a.at >= ${since} and a.at < ${at})
        then 0 else 1 end) as neglected
    from o
    join leads l on l.id = o.lead_id
    ${ownerAt(sql`o.lead_id`, sql`${at - 1}`)}
    ${k.join}
    where 1 = 1 ${pipelineFilter(scope, sql`o.pipeline`)}
    group by 1
    order by 1`.execute(tx);
  return res.rows.map((r) => ({ key: String(r['key']), open: num(r['open_leads']), neglected: num(r['neglected']) }));
}

export interface ActiveReps {
  key: string;
  reps: number;
  active: number;
}

/**
 * Reps who owned an open lead during the period (an owner span and a Stageflow stay of the lead
 * overlap inside [from, to)), and how many of them completed a task (as its assignee) or logged an
 * activity (as its actor, else as the lead's owner then) in the period. `users` are the process's
 * user ids: an activity's actor that is not one of them (an integration) stands for the owner.
 */
export async function activeReps(tx: Tx, scope: ReportScope, users: readonly string[]): Promise<ActiveReps[]> {
  const k = repKey(scope, sql`os.owner`, sql`l.process_version`);
  const { from, to } = scope;
  const pf = pipelineFilter(scope, sql`s.pipeline`);
  const res = await sql<Raw>`${withTables(scope, [
    ownerSpans,
    valuesTable(
      'users',
      [{ name: 'user_id', type: 'text' }],
      users.map((u) => [u]),
    ),
    sql`own as (
      select distinct ${k.expr} as key, os.owner as rep
      from owner_spans os
      join stage_stays s on s.lead_id = os.lead_id
      join leads l on l.id = os.lead_id
      ${k.join}
      where os.owner is not null and s.imported = 0
        and os.starts < ${to} and s.entered_at < ${to}
        and (os.ends is null or (os.ends > ${from} and os.ends > os.starts and os.ends > s.entered_at))
        and (s.exited_at is null or (s.exited_at > ${from} and s.exited_at > s.entered_at and s.exited_at > os.starts))
        ${pf}
    )`,
    sql`acts (rep) as (
      select coalesce(t.assignee, l.owner)
      from tasks t
      join leads l on l.id = t.lead_id
      join stage_stays s on s.id = t.stay_id
      where t.completed_at >= ${from} and t.completed_at < ${to} ${pf}
      union
      select case when a.actor in (select user_id from users) then a.actor else os.owner end
      from activities a
      join stage_stays s on s.id = a.stay_id
      ${ownerAt(sql`a.lead_id`, sql`a.at`)}
      where a.at >= ${from} and a.at < ${to} ${pf}
    )`,
  ])}
    select key, count(*) as reps,
      sum(case when rep in (select rep from acts where rep is not null) then 1 else 0 end) as active
    from own
    group by key
    order by key`.execute(tx);
  return res.rows.map((r) => ({ key: String(r['key']), reps: num(r['reps']), active: num(r['active']) }));
}
