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

/** Per-group rows, and the same figures over all groups' values together. */
export interface Distribution {
  groups: DistributionRow[];
  /**
   * The figures over every group's values, per total key (`tkey`: '' for one grand total). They are
   * computed from the values, not from the groups' figures: the median of all values is not the
   * median of the groups' medians.
   */
  totals: DistributionRow[];
}

/** The figures over numbered values: `rn` a value's rank in its partition, `n` the partition's size. */
const FIGURES = sql`count(*) as count,
      sum(x) as sum,
      avg(x) as mean,
      avg(case when rn = (n + 1) / 2 or rn = (n + 2) / 2 then x end) as median,
      max(case when rn = (9 * n + 9) / 10 then x end) as p90`;

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
    select key, ${FIGURES}
    from r
    group by key
    order by key`.execute(tx);
  return rows.rows.map(distributionRow);
}

/**
 * As `distribution`, plus, when `totals` is true (a grouped report), the totals: `values` must
 * also select `tkey`, the total a value counts in (a constant '' for one grand total; pipeline and
 * stage for per-stage totals). The value query runs once, into a materialized CTE that both the
 * groups and the totals number, so a total costs a second sort of the selected values, not a
 * second scan of leads or stays. Ungrouped, the one group is the total: no totals.
 */
export async function distributionWithTotals(
  tx: Tx,
  scope: ReportScope,
  values: RawBuilder<unknown>,
  byOrd: boolean,
  totals: boolean,
): Promise<Distribution> {
  if (!totals) return { groups: await distribution(tx, scope, values, byOrd), totals: [] };
  const order = byOrd ? sql`ord` : sql`x`;
  const rows = await sql<Record<keyof DistributionRow | 'total', string | number>>`${withTables(scope, [
    sql`v as materialized (${values})`,
    sql`r as (select key, x, row_number() over (partition by key order by ${order}) as rn, count(*) over (partition by key) as n from v)`,
    sql`t as (select tkey, x, row_number() over (partition by tkey order by ${order}) as rn, count(*) over (partition by tkey) as n from v)`,
  ])}
    select 0 as total, key, ${FIGURES} from r group by key
    union all
    select 1 as total, tkey as key, ${FIGURES} from t group by tkey
    order by 1, 2`.execute(tx);
  return {
    groups: rows.rows.filter((r) => Number(r.total) === 0).map(distributionRow),
    totals: rows.rows.filter((r) => Number(r.total) === 1).map(distributionRow),
  };
}

function distributionRow(r: Record<string, string | number>): DistributionRow {
  return {
    key: String(r['key']),
    count: Number(r['count']),
    sum: Number(r['sum']),
    mean: Number(r['mean']),
    median: Number(r['median']),
    p90: Number(r['p90']),
  };
}
