import { sql } from 'kysely';
import type { Tx } from '../db.js';

/**
 * The counts behind METRICS.md §7, per rep, pipeline and stage over a window: leads that reached
 * the stage and left it (or closed in it) in the window, and how many of them got past it. A lead
 * reached stage s when it has a stay at s or beyond in that pipeline (a manual skip still passes
 * the stages it jumped); it got past s when it entered a later stage, or was won while in s.
 * Each lead counts once at each stage, at the time it left s for good: its first entry beyond s
 * if it ever got past s, else the end of its last stay at s, however that stay ended (won, lost,
 * moved back, moved to another pipeline). A lead in s now, or back in s after leaving it, has no
 * outcome at s yet.
 *
 * These queries take no owners: the team and top-rep rates are benchmarks over every rep, and a
 * report limited to some owners (a manager's reach) lists only those reps, never naming another
 * (reports/definitions/coaching.ts).
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
  // Two disjoint ways into the window, each found through an index instead of probing every lead
  // at every stage: (a) the lead got past s in the window: its first entry beyond s is in the
  // window, i.e. a stay entered in the window is beyond s (s.idx < in_max) and none entered before
  // it is (before_max <= s.idx); reaching s follows. (b) It never got past s, and its last stay at
  // s ended in the window: passed if that stay ended in a win, failed if it was lost, moved back or
  // moved to another pipeline. (b) reads the stays that ended in the window: the first probe drops
  // forward exits (a stay beyond s exists); the second, whether a later stay at s exists, is needed
  // only when the stay is not the close of a lead closed now (then it is the lead's last stay), and
  // tests seq for a stay re-entered in the same millisecond (an activated import). The cross join
  // makes SQLite read that range once, not once per stage (it keeps a cross join's order).
  const res = await sql<Record<string, string | number>>`
    with stages (pipeline, idx) as (values ${values}),
    moved as (
      select distinct lead_id from stage_stays where entered_at >= ${w.from} and entered_at < ${w.to}
    ),
    reach as (
      select st.lead_id, st.pipeline,
        max(case when st.entered_at < ${w.from} then st.stage_index end) as before_max,
        max(case when st.entered_at >= ${w.from} and st.entered_at < ${w.to} then st.stage_index end) as in_max
      from moved m
      join stage_stays st on st.lead_id = m.lead_id
      group by st.lead_id, st.pipeline
    ),
    counted as (
      select l.owner, s.pipeline, s.idx, l.status, 1 as passed
      from reach r
      join leads l on l.id = r.lead_id
      join stages s on s.pipeline = r.pipeline and s.idx < r.in_max and (r.before_max is null or s.idx >= r.before_max)
      where r.in_max is not null and l.owner is not null
      union all
      select l.owner, s.pipeline, s.idx, l.status, case when x.exit_kind = 'won' then 1 else 0 end
      from stage_stays x
      cross join stages s
      join leads l on l.id = x.lead_id
      where x.exited_at >= ${w.from} and x.exited_at < ${w.to} and l.owner is not null
        and s.pipeline = x.pipeline and s.idx = x.stage_index
        and not exists (select 1 from stage_stays b
          where b.lead_id = x.lead_id and b.pipeline = x.pipeline and b.stage_index > x.stage_index)
        and ((x.exit_kind = l.status and x.exited_at = l.closed_at)
          or not exists (select 1 from stage_stays a
            where a.lead_id = x.lead_id and a.pipeline = x.pipeline and a.stage_index = x.stage_index
              and a.entered_at >= x.entered_at and a.id <> x.id
              and (a.entered_at > x.entered_at or a.seq > x.seq)))
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
 * Process tasks (not those a person added: ad_hoc) due in the window and not skipped by the engine before they were due (the
 * adoption rule of §1), per assignee and task template: how many, and how many done on time.
 */
export async function taskTimings(tx: Tx, w: Window): Promise<TaskTiming[]> {
  const res = await sql<Record<string, string | number>>`
    select t.assignee, st.pipeline, st.stage, t.template, max(t.title) as title,
      count(*) as due,
      sum(case when t.completed_at is not null and t.completed_at <= t.due_at then 1 else 0 end) as on_time
    from tasks t
    join stage_stays st on st.id = t.stay_id
    where t.assignee is not null and t.due_at >= ${w.from} and t.due_at < ${w.to} and t.ad_hoc = 0
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
