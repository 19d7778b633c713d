import { sql } from 'kysely';
import type { Tx } from '../db.js';
import { distributionWithTotals, type Distribution } from './distribution.js';
import { dimension, ownerFilter, pipelineFilter, withTables, type ReportScope } from './scope.js';

/**
 * Win rate, deal size and cycle length: figures over leads closed (or created) in the period (whose
 * current owner is in scope.owners, when the report is limited).
 */

export interface WinRateCounts {
  key: string;
  won: number;
  lost: number;
}

/** Won and lost among leads closed in the period. */
export async function closedCounts(tx: Tx, scope: ReportScope): Promise<WinRateCounts[]> {
  const d = dimension(scope, sql`l.closed_at`);
  const res = await sql<{ key: string; won: number | string; lost: number | string }>`${withTables(scope)}
    select ${d.expr} as key,
      sum(case when l.status = 'won' then 1 else 0 end) as won,
      sum(case when l.status = 'lost' then 1 else 0 end) as lost
    from leads l ${d.join}
    where l.status in ('won', 'lost') and l.closed_at >= ${scope.from} and l.closed_at < ${scope.to} ${pipelineFilter(scope)} ${ownerFilter(scope)}
    group by 1
    order by 1`.execute(tx);
  return res.rows.map((r) => ({ key: String(r.key), won: Number(r.won), lost: Number(r.lost) }));
}

export interface CohortCounts {
  key: string;
  size: number;
  won: number;
}

/** The cohort of leads created in the period, and how many of them are won by now. */
export async function cohortCounts(tx: Tx, scope: ReportScope): Promise<CohortCounts[]> {
  const d = dimension(scope, sql`l.created_at`);
  const res = await sql<{ key: string; size: number | string; won: number | string }>`${withTables(scope)}
    select ${d.expr} as key, count(*) as size, sum(case when l.status = 'won' then 1 else 0 end) as won
    from leads l ${d.join}
    where l.created_at >= ${scope.from} and l.created_at < ${scope.to} ${pipelineFilter(scope)} ${ownerFilter(scope)}
    group by 1
    order by 1`.execute(tx);
  return res.rows.map((r) => ({ key: String(r.key), size: Number(r.size), won: Number(r.won) }));
}

/**
 * Values (minor units) of leads won in the period, per group and, grouped,
 * in total; a won lead without a
 * value counts as 0.
 */
export function wonValues(tx: Tx, scope: ReportScope): Promise<Distribution> {
  const d = dimension(scope, sql`l.closed_at`);
  return distributionWithTotals(
    tx,
    scope,
    sql`select ${d.expr} as key, '' as tkey, coalesce(l.value_minor, 0) as x from leads l ${d.join}
      where l.status = 'won' and l.closed_at >= ${scope.from} and l.closed_at < ${scope.to} ${pipelineFilter(scope)} ${ownerFilter(scope)}`,
    false,
    scope.by !== null,
  );
}

/** Days from creation to close of leads closed in the period with this status, per group and, grouped, in total. */
export function cycleDays(tx: Tx, scope: ReportScope, status: 'won' | 'lost'): Promise<Distribution> {
  const d = dimension(scope, sql`l.closed_at`);
  return distributionWithTotals(
    tx,
    scope,
    sql`select ${d.expr} as key, '' as tkey, (l.closed_at - l.created_at) / 86400000.0 as x, l.closed_at - l.created_at as ord
      from leads l ${d.join}
      where l.status = ${status} and l.closed_at >= ${scope.from} and l.closed_at < ${scope.to} ${pipelineFilter(scope)} ${ownerFilter(scope)}`,
    true,
    scope.by !== null,
  );
}
