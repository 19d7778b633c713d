import { sql } from 'kysely';
import type { Tx } from '../db.js';
import { dimension, ownerFilter, withTables, type ReportScope } from './scope.js';
import { valuesTable } from './values-table.js';

/**
 * The counts behind METRICS.md §2's cohort funnel for one pipeline: the cohort is the leads whose
 * first stay in the pipeline began in the period; a lead's furthest stage is the highest index of
 * its stays in that pipeline (as recorded on the stays, imported ones included), at any time.
 * Limited to owners, every figure here is over the leads whose current owner is one of them.
 */

export interface StageRef {
  id: string;
  index: number;
}

export interface FunnelCounts {
  key: string;
  stage: string;
  index: number;
  /** Cohort leads whose furthest index >= the stage's. */
  reached: number;
  /** Cohort leads lost now, closed while in this stage of the pipeline. */
  lostAt: number;
  /** Cohort leads won in this pipeline (the same on every stage row of a group). */
  won: number;
}

type Raw = Record<string, string | number | null>;

export async function funnelCounts(
  tx: Tx,
  scope: ReportScope,
  pipeline: string,
  stages: readonly StageRef[],
): Promise<FunnelCounts[]> {
  const d = dimension(scope, sql`c.first_at`);
  const res = await sql<Raw>`${withTables(scope, [
    valuesTable(
      'stages',
      [
        { name: 'stage_id', type: 'text' },
        { name: 'idx', type: 'integer' },
      ],
      stages.map((s) => [s.id, s.index]),
    ),
    // A lead whose first stay in the pipeline began in the period has a stay in the pipeline
    // entered in the period and none entered before it: only the leads with a stay entered in the
    // period are looked at (the period's stays by index), and each one's earlier stays, first entry
    // (for a time bucket) and furthest stage come from its own stays in the pipeline
    // (stage_stays_lead_stage), never from a join that PostgreSQL may answer by reading every stay
    // of the pipeline.
    sql`entered as (
      select distinct lead_id from stage_stays
      where entered_at >= ${scope.from} and entered_at < ${scope.to} and pipeline = ${pipeline}
    )`,
    sql`c as (
      select e.lead_id,
        (select min(st.entered_at) from stage_stays st where st.lead_id = e.lead_id and st.pipeline = ${pipeline}) as first_at,
        (select max(st.stage_index) from stage_stays st where st.lead_id = e.lead_id and st.pipeline = ${pipeline}) as furthest
      from entered e
      where not exists (select 1 from stage_stays st
        where st.lead_id = e.lead_id and st.pipeline = ${pipeline} and st.entered_at < ${scope.from})
    )`,
    // The cohort grouped by what the counts need before it meets the stages, so that the stages'
    // cross join multiplies groups rather than leads.
    sql`g as (
      select ${d.expr} as key, c.furthest,
        case when l.status = 'lost' and l.pipeline = ${pipeline} then l.stage end as lost_stage,
        case when l.status = 'won' and l.pipeline = ${pipeline} then 1 else 0 end as is_won,
        count(*) as n
      from c
      join leads l on l.id = c.lead_id
      ${d.join}
      ${ownerFilter(scope, sql`l.owner`, 'where')}
      group by 1, c.furthest, 3, 4
    )`,
  ])}
    select g.key, st.stage_id, st.idx,
      sum(case when g.furthest >= st.idx then g.n else 0 end) as reached,
      sum(case when g.lost_stage = st.stage_id then g.n else 0 end) as lost_at,
      sum(g.is_won * g.n) as won
    from g
    cross join stages st
    where st.idx >= 0
    group by g.key, st.stage_id, st.idx
    order by g.key, st.idx`.execute(tx);
  return res.rows.map((r) => ({
    key: String(r['key']),
    stage: String(r['stage_id']),
    index: Number(r['idx']),
    reached: Number(r['reached']),
    lostAt: Number(r['lost_at']),
    won: Number(r['won']),
  }));
}

export interface StageMedian {
  key: string;
  count: number;
  /** Median days, the one or two middle values averaged. */
  median: number;
}

/**
 * The number and the median days of the stays of each of `stages` (stage ids of the pipeline) that
 * ended in [from, to), per stage id. Only the stages asked for are read (the funnel needs those
 * without a configured stall threshold, usually few or none), from `stage_stays_done` (a stage's
 * ended stays by end time). Each stage's stays are counted first, and the middle one or two then
 * taken by `order by … limit … offset`: ranking every stay with window functions took most of the
 * funnel's time at a million leads. Limited to owners, only their leads' stays count (the join to
 * leads is made only then).
 */
export async function completedStayMedians(
  tx: Tx,
  scope: Pick<ReportScope, 'owners'>,
  pipeline: string,
  stages: readonly string[],
  from: number,
  to: number,
): Promise<StageMedian[]> {
  if (stages.length === 0) return [];
  const leads = scope.owners === null ? sql`` : sql`join leads l on l.id = s.lead_id`;
  const ended = sql`s.pipeline = ${pipeline} and s.exited_at >= ${from} and s.exited_at < ${to} ${ownerFilter(scope)}`;
  const counts = await sql<Raw>`select s.stage as key, count(*) as count
    from stage_stays s ${leads}
    where s.stage in (${sql.join(stages)}) and ${ended}
    group by s.stage
    order by s.stage`.execute(tx);
  const medians: StageMedian[] = [];
  for (const row of counts.rows) {
    const key = String(row['key']);
    const count = Number(row['count']);
    // The ((n + 1) / 2)th of n durations, and the (n / 2 + 1)th too when n is even (0-based offsets).
    const middle = await sql<Raw>`select avg(m.ord / 86400000.0) as median
      from (
        select s.exited_at - s.entered_at as ord
        from stage_stays s ${leads}
        where s.stage = ${key} and ${ended}
        order by 1
        limit ${2 - (count % 2)} offset ${Math.floor((count - 1) / 2)}
      ) m`.execute(tx);
    medians.push({ key, count, median: Number(middle.rows[0]?.['median']) });
  }
  return medians;
}

export interface StalledCounts {
  key: string;
  stage: string;
  stalled: number;
}

/** Open leads now in a stage of the pipeline whose current stay is longer than the stage's threshold. */
export async function stalledCounts(
  tx: Tx,
  scope: ReportScope,
  pipeline: string,
  thresholds: readonly { stage: string; ms: number }[],
  now: number,
): Promise<StalledCounts[]> {
  const d = dimension(scope, sql`l.stage_entered_at`);
  const res = await sql<Raw>`${withTables(scope, [
    valuesTable(
      'thresholds',
      [
        { name: 'stage_id', type: 'text' },
        { name: 'ms', type: 'bigint' },
      ],
      thresholds.map((t) => [t.stage, Math.round(t.ms)]),
    ),
  ])}
    select ${d.expr} as key, l.stage, count(*) as stalled
    from leads l
    join thresholds th on th.stage_id = l.stage
    ${d.join}
    where l.status = 'open' and l.pipeline = ${pipeline} and cast(${now} as bigint) - l.stage_entered_at > th.ms
      ${ownerFilter(scope)}
    group by 1, l.stage
    order by 1, l.stage`.execute(tx);
  return res.rows.map((r) => ({ key: String(r['key']), stage: String(r['stage']), stalled: Number(r['stalled']) }));
}
