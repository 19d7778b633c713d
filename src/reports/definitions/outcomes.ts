import { DIMENSIONS } from '../../domain/reporting.js';
import { closedCounts, cohortCounts, cycleDays, wonValues } from '../../store/reports/outcomes.js';
import type { DistributionRow } from '../../store/reports/distribution.js';
import { coefficientOfVariation, major, ratio, round } from '../figures.js';
import { mergeByKey, type ReportDefinition, type ReportRow } from '../report.js';

/** METRICS.md §3 win rate, §4 deal size, §6 cycle length. */

export const winRate: ReportDefinition = {
  name: 'win-rate',
  description: 'won / (won + lost) of leads closed in the period; cohort win rate of leads created in it',
  dimensions: DIMENSIONS,
  async run(ctx) {
    const [closed, cohort] = await Promise.all([closedCounts(ctx.tx, ctx.scope), cohortCounts(ctx.tx, ctx.scope)]);
    const c = new Map(closed.map((r) => [r.key, r]));
    const k = new Map(cohort.map((r) => [r.key, r]));
    const rows = mergeByKey([closed, cohort]).map((key): ReportRow => {
      const won = c.get(key)?.won ?? 0;
      const lost = c.get(key)?.lost ?? 0;
      const size = k.get(key)?.size ?? 0;
      const cohortWon = k.get(key)?.won ?? 0;
      return {
        ...ctx.dimensionFields(key),
        won,
        lost,
        closed: won + lost,
        win_rate: ratio(won, won + lost),
        cohort: size,
        cohort_won: cohortWon,
        cohort_win_rate: ratio(cohortWon, size),
      };
    });
    return { rows };
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
  async run(ctx) {
    const values = await wonValues(ctx.tx, ctx.scope);
    const rows = values.map((v) => ({ ...ctx.dimensionFields(v.key), ...money(v) }));
    const means = values.map((v) => v.mean / 100);
    return {
      rows,
      // Spread flags inconsistency between groups: the coefficient of variation of their means.
      summary: { spread: ctx.scope.by === null ? null : coefficientOfVariation(means) },
    };
  },
};

function days(d: DistributionRow | undefined, prefix = ''): ReportRow {
  return {
    [`${prefix}count`]: d?.count ?? 0,
    [`${prefix}mean`]: d ? round(d.mean, 2) : null,
    [`${prefix}median`]: d ? round(d.median, 2) : null,
    ...(prefix === '' ? { p90: d ? round(d.p90, 2) : null } : {}),
  };
}

export const cycle: ReportDefinition = {
  name: 'cycle',
  description: 'days from creation to close of leads won in the period (mean, median, p90); lost leads apart',
  dimensions: DIMENSIONS,
  async run(ctx) {
    const [won, lost] = await Promise.all([cycleDays(ctx.tx, ctx.scope, 'won'), cycleDays(ctx.tx, ctx.scope, 'lost')]);
    const w = new Map(won.map((r) => [r.key, r]));
    const l = new Map(lost.map((r) => [r.key, r]));
    const rows = mergeByKey([won, lost]).map((key) => ({
      ...ctx.dimensionFields(key),
      ...days(w.get(key)),
      ...days(l.get(key), 'lost_'),
    }));
    return { rows };
  },
};
