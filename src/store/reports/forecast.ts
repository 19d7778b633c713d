import { sql } from 'kysely';
import type { Tx } from '../db.js';
import { dimension, jsonText, ownerFilter, pipelineFilter, withTables, type ReportScope } from './scope.js';

/**
 * The sums behind METRICS.md §5's forecast for the period [scope.from, scope.to) as of `asOf`:
 * value won with closed_at in [from, min(asOf, to)), and over leads open now with expected_close
 * in the period, the value weighted by their stage's probability, per group and forecast category.
 * Probabilities arrive as a VALUES table (configured ones, and historical ones computed by
 * stageWinRates), so the weighting happens in SQL; a stage missing from it weighs 0 and is counted.
 * Each lead's weighted value is rounded to the minor unit (half up) before it is added, so every
 * sum is whole minor units and the categories, groups and total add up exactly.
 * Every query here counts only the leads of scope.owners (current owner) when the report is limited.
 */

export interface StageProbability {
  pipeline: string;
  stage: string;
  p: number;
}

export interface ForecastSums {
  key: string;
  /** pipeline | best_case | commit (a lead without a valid category counts as pipeline). */
  category: string;
  wonMinor: number;
  /** Open leads with expected_close in the period. */
  openLeads: number;
  weightedMinor: number;
  /** Of openLeads, those in a stage without a probability (weighted as 0). */
  unweighted: number;
  /** Open leads (any period) without expected_close. */
  withoutCloseDate: number;
  /**
   * Open leads whose expected_close has passed and lies before the period (before min(from, asOf)):
   * in neither this forecast nor any later one. Their count and (unweighted) value.
   */
  pastCloseDate: number;
  pastCloseValueMinor: number;
}

export const FORECAST_CATEGORIES = ['commit', 'best_case', 'pipeline'] as const;

type Raw = Record<string, string | number | null>;

export async function forecastSums(
  tx: Tx,
  scope: ReportScope,
  asOf: number,
  probabilities: readonly StageProbability[],
): Promise<ForecastSums[]> {
  const d = dimension(scope, sql`l.closed_at`);
  const wonTo = Math.min(asOf, scope.to);
  const probRows = probabilities.length > 0 ? probabilities : [{ pipeline: '', stage: '', p: 0 }]; // VALUES needs one row
  const probs = sql`probs (pipeline, stage, p) as (values ${sql.join(
    probRows.map((r) => sql`(cast(${r.pipeline} as text), cast(${r.stage} as text), cast(${r.p} as double precision))`),
  )})`;
  const category = jsonText(scope, sql`l.fields`, 'forecast_category');
  const inPeriod = sql`l.status = 'open' and l.expected_close >= ${scope.from} and l.expected_close < ${scope.to}`;
  const pastClose = sql`l.status = 'open' and l.expected_close < ${Math.min(scope.from, asOf)}`;
  // Half up; the 1e-6 absorbs the binary error of value x p (1235 x 0.7 is 864.4999…), far below
  // any true fraction a cent amount times a probability of four decimals can have.
  const weighed = sql`floor(coalesce(l.value_minor, 0) * coalesce(pr.p, 0) + cast(0.500001 as double precision))`;
  const res = await sql<Raw>`${withTables(scope, [probs])}
    select ${d.expr} as key,
      case when ${category} in ('commit', 'best_case') then ${category} else 'pipeline' end as category,
      sum(case when l.status = 'won' then coalesce(l.value_minor, 0) else 0 end) as won,
      sum(case when ${inPeriod} then 1 else 0 end) as open_leads,
      sum(case when ${inPeriod} then ${weighed} else 0 end) as weighted,
      sum(case when ${inPeriod} and pr.p is null then 1 else 0 end) as unweighted,
      sum(case when l.status = 'open' and l.expected_close is null then 1 else 0 end) as without_close,
      sum(case when ${pastClose} then 1 else 0 end) as past_close,
      sum(case when ${pastClose} then coalesce(l.value_minor, 0) else 0 end) as past_close_value
    from leads l
    left join probs pr on pr.pipeline = l.pipeline and pr.stage = l.stage
    ${d.join}
    where ((l.status = 'won' and l.closed_at >= ${scope.from} and l.closed_at < ${wonTo})
      or (l.status = 'open' and (l.expected_close is null or (l.expected_close >= ${scope.from} and l.expected_close < ${scope.to})))
      or (${pastClose}))
      ${pipelineFilter(scope)} ${ownerFilter(scope)}
    group by 1, 2
    order by 1, 2`.execute(tx);
  return res.rows.map((r) => ({
    key: String(r['key']),
    category: String(r['category']),
    wonMinor: Number(r['won'] ?? 0),
    openLeads: Number(r['open_leads'] ?? 0),
    weightedMinor: Number(r['weighted'] ?? 0),
    unweighted: Number(r['unweighted'] ?? 0),
    withoutCloseDate: Number(r['without_close'] ?? 0),
    pastCloseDate: Number(r['past_close'] ?? 0),
    pastCloseValueMinor: Number(r['past_close_value'] ?? 0),
  }));
}

/** Value (minor units) won with closed_at in [scope.from, scope.to), per group; a lead without a value counts 0. */
export async function wonSums(tx: Tx, scope: ReportScope): Promise<{ key: string; wonMinor: number; won: number }[]> {
  const d = dimension(scope, sql`l.closed_at`);
  const res = await sql<Raw>`${withTables(scope)}
    select ${d.expr} as key, sum(coalesce(l.value_minor, 0)) as won_minor, count(*) as won
    from leads l ${d.join}
    where l.status = 'won' and l.closed_at >= ${scope.from} and l.closed_at < ${scope.to} ${pipelineFilter(scope)} ${ownerFilter(scope)}
    group by 1
    order by 1`.execute(tx);
  return res.rows.map((r) => ({ key: String(r['key']), wonMinor: Number(r['won_minor']), won: Number(r['won']) }));
}

/** Value won per time bucket (scope.buckets, on closed_at) and owner ('' when none): the actuals of forecast accuracy. */
export async function wonByBucketAndOwner(
  tx: Tx,
  scope: ReportScope,
): Promise<{ bucket: string; owner: string; wonMinor: number }[]> {
  if (scope.buckets.length === 0) return [];
  const from = Math.min(...scope.buckets.map((b) => b.start));
  const to = Math.max(...scope.buckets.map((b) => b.end));
  const res = await sql<Raw>`${withTables(scope)}
    select b.label as bucket, coalesce(l.owner, '') as owner, sum(coalesce(l.value_minor, 0)) as won_minor
    from leads l
    join buckets b on l.closed_at >= b.starts and l.closed_at < b.ends
    where l.status = 'won' and l.closed_at >= ${from} and l.closed_at < ${to} ${pipelineFilter(scope)} ${ownerFilter(scope)}
    group by b.label, coalesce(l.owner, '')
    order by 1, 2`.execute(tx);
  return res.rows.map((r) => ({
    bucket: String(r['bucket']),
    owner: String(r['owner']),
    wonMinor: Number(r['won_minor']),
  }));
}
