import { sql } from 'kysely';
import type { Tx } from '../db.js';
import { dimension, ownerFilter, withTables, type ReportScope } from './scope.js';

/**
 * Per stage: how many leads closed in [closedFrom, closedTo) had reached it, and how many of them
 * were won. "Reached" is METRICS.md §2's: the lead's furthest stage index in that pipeline (as
 * recorded on its stays, imported ones included) is at least the stage's. Won counts the lead's
 * final status wherever it closed. Feeds the `historical` stage probability (§5) and calibration.
 * Limited to owners, only their leads (current owner) count: a manager's probabilities are learnt
 * from their teams' history.
 */

export interface StageKey {
  pipeline: string;
  stage: string;
  index: number;
}

export interface StageWinRate {
  key: string;
  pipeline: string;
  stage: string;
  reached: number;
  won: number;
}

type Raw = Record<string, string | number | null>;

/** Grouped by the scope's dimension (a time bucket groups on closed_at); scope.from/to are not used. */
export async function stageWinRates(
  tx: Tx,
  scope: ReportScope,
  stages: readonly StageKey[],
  closedFrom: number,
  closedTo: number,
): Promise<StageWinRate[]> {
  if (stages.length === 0) return [];
  const d = dimension(scope, sql`l.closed_at`);
  const stageRows = sql.join(
    stages.map((s) => sql`(cast(${s.pipeline} as text), cast(${s.stage} as text), cast(${s.index} as integer))`),
  );
  const closed = sql`l.status in ('won', 'lost') and l.closed_at >= ${closedFrom} and l.closed_at < ${closedTo} ${ownerFilter(scope)}`;
  const won = sql`case when l.status = 'won' then 1 else 0 end`;
  const pipes = scope.pipeline === null ? sql`` : sql`where pipeline = ${scope.pipeline}`;
  // The furthest stage of each closed lead per pipeline. A lead that never left its pipeline has it
  // on its row (`furthest_index`, in the closed-leads index with everything else read here); only
  // a lead with stays in other pipelines is read from its stays. For those SQLite is fastest with
  // one seek per lead and pipeline in stage_stays_lead_stage (lead_id, pipeline, stage_index);
  // PostgreSQL with one hash join and grouping of the leads' stays, where the same seeks take three
  // to four times longer (measured at 200,000 leads, see bench/README.md).
  const onePipeline = sql`select ${d.expr} as key, l.pipeline, l.furthest_index as furthest, ${won} as won
    from leads l
    ${d.join}
    where ${closed} and l.other_pipelines = 0 and l.pipeline in (select pipeline from pipes)`;
  const severalPipelines =
    scope.dialect === 'sqlite'
      ? sql`select ${d.expr} as key, p.pipeline,
          (select max(s.stage_index) from stage_stays s where s.lead_id = l.id and s.pipeline = p.pipeline) as furthest,
          ${won} as won
        from leads l
        cross join pipes p
        ${d.join}
        where ${closed} and l.other_pipelines = 1`
      : sql`select ${d.expr} as key, s.pipeline, max(s.stage_index) as furthest, ${won} as won
        from leads l
        join stage_stays s on s.lead_id = l.id
        ${d.join}
        where ${closed} and l.other_pipelines = 1 ${scope.pipeline === null ? sql`` : sql`and s.pipeline = ${scope.pipeline}`}
        group by 1, l.id, s.pipeline, l.status`;
  const furthest = sql`${onePipeline} union all ${severalPipelines}`;
  const res = await sql<Raw>`${withTables(scope, [
    sql`stages (pipeline, stage, idx) as (values ${stageRows})`,
    sql`pipes (pipeline) as (select distinct pipeline from stages ${pipes})`,
  ])}
    select r.key, st.pipeline, st.stage, sum(r.leads) as reached, sum(r.won) as won
    from (
      select f.key, f.pipeline, f.furthest, count(*) as leads, sum(f.won) as won
      from (${furthest}) f
      group by f.key, f.pipeline, f.furthest
    ) r
    join stages st on st.pipeline = r.pipeline and r.furthest >= st.idx
    group by r.key, st.pipeline, st.stage
    order by r.key, st.pipeline, st.stage`.execute(tx);
  return res.rows.map((r) => ({
    key: String(r['key']),
    pipeline: String(r['pipeline']),
    stage: String(r['stage']),
    reached: Number(r['reached']),
    won: Number(r['won']),
  }));
}
