import { sql } from 'kysely';
import type { Tx } from '../db.js';
import { distribution, type DistributionRow } from './distribution.js';
import { dimension, withTables, type ReportScope } from './scope.js';
import { valuesTable } from './values-table.js';

/**
 * The counts behind METRICS.md §2's cohort funnel for one pipeline: the cohort is the leads whose
 * first stay in the pipeline began in the period; a lead's furthest stage is the highest index of
 * its stays in that pipeline (as recorded on the stays, imported ones included), at any time.
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
    // entered in the period: only those leads' stays are read (the period's stays by index, then
    // each lead's stays in the pipeline), not every stay of the pipeline.
    sql`entered as (
      select distinct lead_id from stage_stays
      where entered_at >= ${scope.from} and entered_at < ${scope.to} and pipeline = ${pipeline}
    )`,
    sql`c as (
      select st.lead_id, min(st.entered_at) as first_at, max(st.stage_index) as furthest
      from entered e
      join stage_stays st on st.lead_id = e.lead_id and st.pipeline = ${pipeline}
      group by st.lead_id
    )`,
  ])}
    select ${d.expr} as key, st.stage_id, st.idx,
      sum(case when c.furthest >= st.idx then 1 else 0 end) as reached,
      sum(case when l.status = 'lost' and l.pipeline = ${pipeline} and l.stage = st.stage_id then 1 else 0 end) as lost_at,
      sum(case when l.status = 'won' and l.pipeline = ${pipeline} then 1 else 0 end) as won
    from c
    join leads l on l.id = c.lead_id
    cross join stages st
    ${d.join}
    where c.first_at >= ${scope.from} and c.first_at < ${scope.to} and st.idx >= 0
    group by 1, st.stage_id, st.idx
    order by 1, st.idx`.execute(tx);
  return res.rows.map((r) => ({
    key: String(r['key']),
    stage: String(r['stage_id']),
    index: Number(r['idx']),
    reached: Number(r['reached']),
    lostAt: Number(r['lost_at']),
    won: Number(r['won']),
  }));
}

/** Days spent in each stage of the pipeline by stays that ended in [from, to), per stage id. */
export function completedStayDays(
  tx: Tx,
  scope: ReportScope,
  pipeline: string,
  from: number,
  to: number,
): Promise<DistributionRow[]> {
  return distribution(
    tx,
    { ...scope, by: null, buckets: [], teams: [] },
    sql`select s.stage as key, (s.exited_at - s.entered_at) / 86400000.0 as x, s.exited_at - s.entered_at as ord
      from stage_stays s
      where s.pipeline = ${pipeline} and s.exited_at >= ${from} and s.exited_at < ${to}`,
    true,
  );
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
    group by 1, l.stage
    order by 1, l.stage`.execute(tx);
  return res.rows.map((r) => ({ key: String(r['key']), stage: String(r['stage']), stalled: Number(r['stalled']) }));
}
