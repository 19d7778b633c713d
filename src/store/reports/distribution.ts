import { sql, type RawBuilder } from 'kysely';
import type { Tx } from '../db.js';
import { withTables, type ReportScope } from './scope.js';

/**
 * Count, sum, mean, median and p90 of a value per group, in SQL on both databases: window
 * functions number the values within their group; the median averages the one or two middle
 * ones, p90 is the nearest rank ceil(0.9 n).
 */

export interface DistributionRow {
  key: string;
  count: number;
  sum: number;
  mean: number;
  median: number;
  p90: number;
}

/**
 * `values` must be a query selecting `key` and `x` (a number, never null) per item; it may use
 * the `team_map` and `buckets` tables of the scope. With `byOrd`, it also selects `ord`, an
 * integer in the same order as `x` (a duration in ms for x in days): the values are numbered by
 * it, which picks the same median and p90 while PostgreSQL sorts bigints instead of numerics.
 */
export async function distribution(
  tx: Tx,
  scope: ReportScope,
  values: RawBuilder<unknown>,
  byOrd = false,
): Promise<DistributionRow[]> {
  const order = byOrd ? sql`ord` : sql`x`;
  const rows = await sql<Record<keyof DistributionRow, string | number>>`${withTables(scope, [
    sql`v as (${values})`,
    sql`r as (select key, x, row_number() over (partition by key order by ${order}) as rn, count(*) over (partition by key) as n from v)`,
  ])}
    select key,
      count(*) as count,
      sum(x) as sum,
      avg(x) as mean,
      avg(case when rn = (n + 1) / 2 or rn = (n + 2) / 2 then x end) as median,
      max(case when rn = (9 * n + 9) / 10 then x end) as p90
    from r
    group by key
    order by key`.execute(tx);
  return rows.rows.map((r) => ({
    key: String(r.key),
    count: Number(r.count),
    sum: Number(r.sum),
    mean: Number(r.mean),
    median: Number(r.median),
    p90: Number(r.p90),
  }));
}
