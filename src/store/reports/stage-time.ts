import { sql } from 'kysely';
import type { Tx } from '../db.js';
import { distributionWithTotals, type Distribution, type DistributionRow } from './distribution.js';
import { dimension, ownerFilter, pipelineFilter, withTables, type ReportScope } from './scope.js';
import { valuesTable } from './values-table.js';

/**
 * METRICS.md §6: days spent in stages, and days from the ask to the decision; limited to owners, over
 * the stays and leads of leads whose current owner is one of them.
 */

export interface StageDays extends DistributionRow {
  pipeline: string;
  stage: string;
}

// Stage and pipeline ids are lowercase letters, digits, '-' and '_', so '|' separates them from
// the group (which may hold anything) when read from the right.
const SEP = '|';

/** Days in stage, per group, pipeline and stage; grouped, also per pipeline and stage over every group. */
export interface StageDaysByGroup {
  groups: StageDays[];
  /** Per pipeline and stage over all groups (key ''), when grouped. */
  totals: StageDays[];
}

/** Days in stage of stays that ended in the period, per group, pipeline and stage (and per stage in total when grouped). */
export async function timeInStage(tx: Tx, scope: ReportScope): Promise<StageDaysByGroup> {
  const d = dimension(scope, sql`s.exited_at`);
  const res = await distributionWithTotals(
    tx,
    scope,
    sql`select ${d.expr} || '|' || s.pipeline || '|' || s.stage as key, '|' || s.pipeline || '|' || s.stage as tkey,
        (s.exited_at - s.entered_at) / 86400000.0 as x, s.exited_at - s.entered_at as ord
      from stage_stays s
      join leads l on l.id = s.lead_id
      ${d.join}
      where s.exited_at >= ${scope.from} and s.exited_at < ${scope.to} ${pipelineFilter(scope, sql`s.pipeline`)} ${ownerFilter(scope)}`,
    true,
    scope.by !== null,
  );
  return { groups: res.groups.map(splitStage), totals: res.totals.map(splitStage) };
}

function splitStage(r: DistributionRow): StageDays {
  const parts = r.key.split(SEP);
  const stage = parts.pop() ?? '';
  const pipeline = parts.pop() ?? '';
  return { ...r, key: parts.join(SEP), pipeline, stage };
}

export interface AskStage {
  pipeline: string;
  stage: string;
}

function askTable(asks: readonly AskStage[]): ReturnType<typeof valuesTable> {
  return valuesTable(
    'ask_stages',
    [
      { name: 'pipeline', type: 'text' },
      { name: 'stage', type: 'text' },
    ],
    asks.map((a) => [a.pipeline, a.stage]),
  );
}

/**
 * Days from the last entry into the ask stage of the pipeline a lead closed in to its close, over
 * leads closed in the period with this status that entered that stage (before they closed), per
 * group and, grouped, in total.
 */
export function askToDecision(
  tx: Tx,
  scope: ReportScope,
  asks: readonly AskStage[],
  status: 'won' | 'lost',
): Promise<Distribution> {
  const d = dimension(scope, sql`l.closed_at`);
  // The ask table is nested inside the value query: distribution() owns the outer WITH.
  return distributionWithTotals(
    tx,
    scope,
    // Materialized: inlined, q's correlated subquery ran once per use of asked_at (three times a
    // lead on PostgreSQL).
    sql`with ${askTable(asks)},
      q as materialized (
        select ${d.expr} as key, l.closed_at,
          (select max(s.entered_at) from stage_stays s
            where s.lead_id = l.id and s.pipeline = a.pipeline and s.stage = a.stage and s.entered_at <= l.closed_at) as asked_at
        from leads l
        join ask_stages a on a.pipeline = l.pipeline
        ${d.join}
        where l.status = ${status} and l.closed_at >= ${scope.from} and l.closed_at < ${scope.to} ${pipelineFilter(scope)} ${ownerFilter(scope)}
      )
      select key, '' as tkey, (closed_at - asked_at) / 86400000.0 as x, closed_at - asked_at as ord from q where asked_at is not null`,
    true,
    scope.by !== null,
  );
}

export interface ClosedByPipeline {
  pipeline: string;
  closed: number;
  /** Of them, how many entered their pipeline's ask stage before closing. */
  asked: number;
}

/** Leads closed in the period per pipeline, for the notes on what ask-to-decision leaves out. */
export async function closedByPipeline(
  tx: Tx,
  scope: ReportScope,
  asks: readonly AskStage[],
): Promise<ClosedByPipeline[]> {
  const res = await sql<Record<string, string | number>>`${withTables(scope, [askTable(asks)])}
    select l.pipeline, count(*) as closed,
      sum(case when exists (
        select 1 from stage_stays s join ask_stages a on a.pipeline = s.pipeline and a.stage = s.stage
        where s.lead_id = l.id and s.pipeline = l.pipeline and s.entered_at <= l.closed_at) then 1 else 0 end) as asked
    from leads l
    where l.status in ('won', 'lost') and l.closed_at >= ${scope.from} and l.closed_at < ${scope.to} ${pipelineFilter(scope)} ${ownerFilter(scope)}
    group by l.pipeline
    order by l.pipeline`.execute(tx);
  return res.rows.map((r) => ({
    pipeline: String(r['pipeline']),
    closed: Number(r['closed']),
    asked: Number(r['asked']),
  }));
}
