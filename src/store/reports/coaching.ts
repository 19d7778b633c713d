import { sql } from 'kysely';
import type { Tx } from '../db.js';

/**
 * The counts behind METRICS.md §7, per rep, pipeline and stage over a window: leads that reached
 * the stage and left it (or closed in it) in the window, and how many of them got past it. A lead
 * reached stage s when it has a stay at s or beyond in that pipeline (a manual skip still passes
 * the stages it jumped); it got past s when it entered a later stage, or was won while in s. The
 * time it left s is its first entry beyond s, or its close.
 */

export interface StageRef {
  pipeline: string;
  index: number;
}

export interface StagePassRow {
  owner: string;
  pipeline: string;
  index: number;
  /** n(s): reached s and left it (or closed in it) in the window. */
  reached: number;
  /** x(s): of them, got past s. */
  passed: number;
  /** Of those that got past s, how many are won and how many closed (for w_t(s)). */
  passedWon: number;
  passedClosed: number;
}

export interface Window {
  from: number;
  to: number;
}

export async function stagePasses(tx: Tx, stages: readonly StageRef[], w: Window): Promise<StagePassRow[]> {
  if (stages.length === 0) return [];
  const values = sql.join(stages.map((s) => sql`(cast(${s.pipeline} as text), cast(${s.index} as integer))`));
  const res = await sql<Record<string, string | number>>`
    with stages (pipeline, idx) as (values ${values}),
    lead_stage as (
      select l.owner, s.pipeline, s.idx, l.status, l.closed_at,
        (l.pipeline = s.pipeline and l.stage_index = s.idx) as closes_here,
        (select min(st.entered_at) from stage_stays st
          where st.lead_id = l.id and st.pipeline = s.pipeline and st.stage_index > s.idx) as passed_at
      from leads l
      join stages s on exists (
        select 1 from stage_stays st where st.lead_id = l.id and st.pipeline = s.pipeline and st.stage_index >= s.idx)
      where l.owner is not null
    ),
    counted as (
      select owner, pipeline, idx, status,
        case when passed_at is not null or (status = 'won' and closes_here) then 1 else 0 end as passed
      from lead_stage
      where (passed_at >= ${w.from} and passed_at < ${w.to})
        or (passed_at is null and closes_here and status in ('won', 'lost') and closed_at >= ${w.from} and closed_at < ${w.to})
    )
    select owner, pipeline, idx,
      count(*) as reached,
      sum(passed) as passed,
      sum(case when passed = 1 and status = 'won' then 1 else 0 end) as passed_won,
      sum(case when passed = 1 and status in ('won', 'lost') then 1 else 0 end) as passed_closed
    from counted
    group by owner, pipeline, idx
    order by owner, pipeline, idx`.execute(tx);
  return res.rows.map((r) => ({
    owner: String(r['owner']),
    pipeline: String(r['pipeline']),
    index: Number(r['idx']),
    reached: Number(r['reached']),
    passed: Number(r['passed']),
    passedWon: Number(r['passed_won']),
    passedClosed: Number(r['passed_closed']),
  }));
}

export interface RepOutcome {
  owner: string;
  won: number;
  lost: number;
  /** Sum of won values, minor units. */
  wonValue: number;
}

/** Each rep's won and lost leads closed in the window, and the value won. */
export async function repOutcomes(tx: Tx, w: Window): Promise<RepOutcome[]> {
  const res = await sql<Record<string, string | number>>`
    select l.owner,
      sum(case when l.status = 'won' then 1 else 0 end) as won,
      sum(case when l.status = 'lost' then 1 else 0 end) as lost,
      sum(case when l.status = 'won' then coalesce(l.value_minor, 0) else 0 end) as won_value
    from leads l
    where l.owner is not null and l.status in ('won', 'lost') and l.closed_at >= ${w.from} and l.closed_at < ${w.to}
    group by l.owner`.execute(tx);
  return res.rows.map((r) => ({
    owner: String(r['owner']),
    won: Number(r['won']),
    lost: Number(r['lost']),
    wonValue: Number(r['won_value']),
  }));
}

export interface TaskTiming {
  assignee: string;
  pipeline: string;
  stage: string;
  template: string;
  title: string;
  due: number;
  onTime: number;
}

/**
 * Process tasks due in the window and not skipped by the engine before they were due (the
 * adoption rule of §1), per assignee and task template: how many, and how many done on time.
 */
export async function taskTimings(tx: Tx, w: Window): Promise<TaskTiming[]> {
  const res = await sql<Record<string, string | number>>`
    select t.assignee, st.pipeline, st.stage, t.template, max(t.title) as title,
      count(*) as due,
      sum(case when t.completed_at is not null and t.completed_at <= t.due_at then 1 else 0 end) as on_time
    from tasks t
    join stage_stays st on st.id = t.stay_id
    where t.assignee is not null and t.due_at >= ${w.from} and t.due_at < ${w.to}
      and not (t.status = 'skipped' and t.skipped_at is not null and t.skipped_at < t.due_at)
    group by t.assignee, st.pipeline, st.stage, t.template`.execute(tx);
  return res.rows.map((r) => ({
    assignee: String(r['assignee']),
    pipeline: String(r['pipeline']),
    stage: String(r['stage']),
    template: String(r['template']),
    title: String(r['title']),
    due: Number(r['due']),
    onTime: Number(r['on_time']),
  }));
}
