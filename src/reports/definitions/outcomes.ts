import { DIMENSIONS } from '../../domain/reporting.js';
import { closedCounts, cohortCounts, cycleDays, wonValues } from '../../store/reports/outcomes.js';
import type { Distribution, DistributionRow } from '../../store/reports/distribution.js';
import { coefficientOfVariation, major, ratio, roundDays } from '../figures.js';
import { columnsOf, groupKeys, type ReportDefinition, type ReportRow } from '../report.js';
import { refuseUnread } from './keyed-period.js';

/** METRICS.md §3 win rate, §4 deal size, §6 cycle length. */

const WIN_RATE = ['won', 'lost', 'closed', 'win_rate', 'cohort', 'cohort_won', 'cohort_win_rate'] as const;

function winRateFigures(won: number, lost: number, size: number, cohortWon: number): ReportRow {
  return {
    won,
    lost,
    closed: won + lost,
    win_rate: ratio(won, won + lost),
    cohort: size,
    cohort_won: cohortWon,
    cohort_win_rate: ratio(cohortWon, size),
  };
}

/** Adds up a numeric field over rows (every grouping here splits the leads, so the groups' sum is the total). */
function sumOf(rows: readonly ReportRow[], field: string): number {
  return rows.reduce((a, r) => a + Number(r[field] ?? 0), 0);
}

export const winRate: ReportDefinition = {
  name: 'win-rate',
  description: 'won / (won + lost) of leads closed in the period; cohort win rate of leads created in it',
  dimensions: DIMENSIONS,
  units: {
    won: 'count',
    lost: 'count',
    closed: 'count',
    win_rate: 'ratio',
    cohort: 'count',
    cohort_won: 'count',
    cohort_win_rate: 'ratio',
  },
  async run(ctx) {
    refuseUnread(ctx, 'win-rate', []);
    const [closed, cohort] = await Promise.all([closedCounts(ctx.tx, ctx.scope), cohortCounts(ctx.tx, ctx.scope)]);
    const c = new Map(closed.map((r) => [r.key, r]));
    const k = new Map(cohort.map((r) => [r.key, r]));
    const rows = groupKeys(ctx, [closed, cohort]).map((key): ReportRow => {
      const won = c.get(key)?.won ?? 0;
      const lost = c.get(key)?.lost ?? 0;
      const size = k.get(key)?.size ?? 0;
      const cohortWon = k.get(key)?.won ?? 0;
      return { ...ctx.dimensionFields(key), ...winRateFigures(won, lost, size, cohortWon) };
    });
    const columns = columnsOf(ctx, WIN_RATE);
    if (ctx.scope.by === null) return { rows, columns };
    // Grouped, the organisation's figure a manager looks for first: each lead is in one group
    // (one owner, team, pipeline, bucket of its close or creation), so the groups add up to it.
    const total = winRateFigures(
      sumOf(rows, 'won'),
      sumOf(rows, 'lost'),
      sumOf(rows, 'cohort'),
      sumOf(rows, 'cohort_won'),
    );
    return { rows, columns, summary: { total } };
  },
};

function money(d: DistributionRow | undefined): ReportRow {
  return {
    count: d?.count ?? 0,
    sum: d ? major(d.sum) : 0,
    mean: d ? major(d.mean) : null,
    median: d ? major(d.median) : null,
    p90: d ? major(d.p90) : null,
  };
}

export const dealSize: ReportDefinition = {
  name: 'deal-size',
  description: 'count, sum, mean, median and p90 value of leads won in the period; spread of the group means',
  dimensions: DIMENSIONS,
  units: { count: 'count', sum: 'money', mean: 'money', median: 'money', p90: 'money', spread: 'ratio' },
  async run(ctx) {
    refuseUnread(ctx, 'deal-size', []);
    const values = await wonValues(ctx.tx, ctx.scope);
    const byKey = new Map(values.groups.map((v) => [v.key, v]));
    const rows = groupKeys(ctx, [values.groups]).map((key) => ({
      ...ctx.dimensionFields(key),
      ...money(byKey.get(key)),
    }));
    const means = values.groups.map((v) => v.mean / 100);
    const columns = columnsOf(ctx, ['count', 'sum', 'mean', 'median', 'p90']);
    // Spread flags inconsistency between groups: the coefficient of variation of their means.
    if (ctx.scope.by === null) return { rows, columns, summary: { spread: null } };
    // The groups' total, median and p90 over every won lead's value (SQL numbers them all once
    // more), not the median of the groups' medians.
    return { rows, columns, summary: { spread: coefficientOfVariation(means), total: totalOf(values, money) } };
  },
};

/** The grouped report's total row from the distribution's one grand total (none when nothing matched). */
function totalOf(d: Distribution, figures: (r: DistributionRow | undefined) => ReportRow): ReportRow {
  return figures(d.totals.find((t) => t.key === ''));
}

function days(d: DistributionRow | undefined, prefix = ''): ReportRow {
  return {
    [`${prefix}count`]: d?.count ?? 0,
    [`${prefix}mean`]: d ? roundDays(d.mean) : null,
    [`${prefix}median`]: d ? roundDays(d.median) : null,
    ...(prefix === '' ? { p90: d ? roundDays(d.p90) : null } : {}),
  };
}

export const cycle: ReportDefinition = {
  name: 'cycle',
  description: 'days from creation to close of leads won in the period (mean, median, p90); lost leads apart',
  dimensions: DIMENSIONS,
  units: {
    count: 'count',
    mean: 'days',
    median: 'days',
    p90: 'days',
    lost_count: 'count',
    lost_mean: 'days',
    lost_median: 'days',
  },
  async run(ctx) {
    refuseUnread(ctx, 'cycle', []);
    const [won, lost] = await Promise.all([cycleDays(ctx.tx, ctx.scope, 'won'), cycleDays(ctx.tx, ctx.scope, 'lost')]);
    const w = new Map(won.groups.map((r) => [r.key, r]));
    const l = new Map(lost.groups.map((r) => [r.key, r]));
    const rows = groupKeys(ctx, [won.groups, lost.groups]).map((key) => ({
      ...ctx.dimensionFields(key),
      ...days(w.get(key)),
      ...days(l.get(key), 'lost_'),
    }));
    const columns = columnsOf(ctx, ['count', 'mean', 'median', 'p90', 'lost_count', 'lost_mean', 'lost_median']);
    if (ctx.scope.by === null) return { rows, columns };
    // Grouped, the organisation's cycle: mean, median and p90 over every lead's days, in SQL.
    const total = { ...totalOf(won, (d) => days(d)), ...totalOf(lost, (d) => days(d, 'lost_')) };
    return { rows, columns, summary: { total } };
  },
};
